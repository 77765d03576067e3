"""Who signs in to the local Kafka broker: one SCRAM principal per service, tool and
organiser system, so the broker's ACLs (tools/infra/kafka_acls.py) can tell them apart.

- broker: the broker itself, between its own listeners (a super user);
- admin: creates topics, users and ACLs; tests use it as "any outside system";
- operator: tools/deadletters, which reads dead letters and replays them;
- intake, capacity, matching, reporting: the services;
- org-zonneke, org-bolleboos: the demo organisers' own systems.

The passwords are `<name>-secret`: LOCAL DEVELOPMENT AND TESTS ONLY. They are known
to anyone reading this file; a real cluster gets its own users and secrets (see
README, "Kafka identity", and deploy/kubernetes/secrets.example.yaml).
"""

from __future__ import annotations

import os

from loketkit.kafka_security import KafkaSecurity

MECHANISM = "SCRAM-SHA-256"
BROKER = "broker"
ADMIN = "admin"
OPERATOR = "operator"
SERVICES = ("intake", "capacity", "matching", "reporting")
DEMO_ORGANISERS = ("org-zonneke", "org-bolleboos")
PRINCIPALS = (BROKER, ADMIN, OPERATOR, *SERVICES, *DEMO_ORGANISERS)
SUPER_USERS = (BROKER, ADMIN)


def local_password(name: str) -> str:
    """The local development password of a principal (never use outside this machine)."""
    return f"{name}-secret"


def security(name: str) -> KafkaSecurity:
    """How `name` signs in to the local broker."""
    return KafkaSecurity("SASL_PLAINTEXT", MECHANISM, name, local_password(name))


def client_env(name: str) -> dict[str, str]:
    """KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_USERNAME, KAFKA_PASSWORD."""
    return security(name).env()


def scram_arguments(names: tuple[str, ...] = PRINCIPALS) -> list[str]:
    """StorageTool `format` arguments that create the SCRAM users with the storage."""
    arguments: list[str] = []
    for name in names:
        arguments += ["--add-scram",
                      f"{MECHANISM}=[name={name},password={local_password(name)}]"]
    return arguments


def from_env_or(local: str) -> KafkaSecurity:
    """The identity the environment gives (KAFKA_SECURITY_PROTOCOL and friends, as for the
    services), else the local principal `local`: how the tools sign in."""
    if os.environ.get("KAFKA_SECURITY_PROTOCOL"):
        return KafkaSecurity.from_env()
    return security(local)


ADMIN_SECURITY = security(ADMIN)
OPERATOR_SECURITY = security(OPERATOR)
