"""How a process signs in to Kafka, in the shapes its clients want.

Each service, tool and organiser system has its own principal (a SCRAM user), and
the broker's ACLs (tools/infra/kafka_acls.py) say what each may read and write.
`KafkaSecurity` is built once from the settings (KAFKA_SECURITY_PROTOCOL,
KAFKA_SASL_MECHANISM, KAFKA_USERNAME, KAFKA_PASSWORD) or the same environment
variables, and hands out:
- `faststream()`: FastStream's `security=` for the broker (loketkit.kafka);
- `aiokafka()`: keyword arguments for aiokafka's producer, consumer and admin
  client (the outbox relay, the lag monitor, tools/deadletters).
PLAINTEXT (no sign-in) stays possible for a cluster that does not need it.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from loketkit.settings import ServiceSettings

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: str = "PLAINTEXT"
    mechanism: str = "SCRAM-SHA-256"
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in logs

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unsupported Kafka security protocol {self.protocol!r}")
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"unsupported SASL mechanism {self.mechanism!r}")
        if self.sasl and not (self.username and self.password):
            raise ValueError(f"{self.protocol} needs a Kafka username and password")

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def principal(self) -> str:
        """`User:<name>`, as the broker's ACLs name it (ANONYMOUS without sign-in)."""
        return f"User:{self.username if self.sasl else 'ANONYMOUS'}"

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> KafkaSecurity:
        password = settings.kafka_password
        return cls(settings.kafka_security_protocol, settings.kafka_sasl_mechanism,
                   settings.kafka_username,
                   password.get_secret_value() if password is not None else None)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSecurity:
        """For tools run outside a service: the same KAFKA_* variables."""
        env = os.environ if env is None else env
        return cls(env.get("KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT",
                   env.get("KAFKA_SASL_MECHANISM") or "SCRAM-SHA-256",
                   env.get("KAFKA_USERNAME") or None, env.get("KAFKA_PASSWORD") or None)

    def faststream(self) -> BaseSecurity | None:
        """FastStream's `security=`; None for PLAINTEXT."""
        if not self.sasl:
            return None
        assert self.username is not None and self.password is not None
        use_ssl = self.protocol == "SASL_SSL"
        scram = SASLScram256 if self.mechanism == "SCRAM-SHA-256" else SASLScram512
        return scram(self.username, self.password, use_ssl=use_ssl,
                     ssl_context=ssl.create_default_context() if use_ssl else None)

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer, AIOKafkaConsumer, AIOKafkaAdminClient."""
        if not self.sasl:
            return {"security_protocol": "PLAINTEXT"}
        kwargs: dict[str, Any] = {
            "security_protocol": self.protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }
        if self.protocol == "SASL_SSL":
            kwargs["ssl_context"] = ssl.create_default_context()
        return kwargs

    def confluent(self) -> dict[str, str]:
        """Configuration keys for confluent-kafka (librdkafka) clients."""
        config = {"security.protocol": self.protocol}
        if self.sasl:
            assert self.username is not None and self.password is not None
            config |= {"sasl.mechanism": self.mechanism, "sasl.username": self.username,
                       "sasl.password": self.password}
        return config

    def env(self) -> dict[str, str]:
        """The KAFKA_* environment variables that give a process this identity."""
        env = {"KAFKA_SECURITY_PROTOCOL": self.protocol}
        if self.sasl:
            assert self.username is not None and self.password is not None
            env |= {"KAFKA_SASL_MECHANISM": self.mechanism, "KAFKA_USERNAME": self.username,
                    "KAFKA_PASSWORD": self.password}
        return env


PLAINTEXT = KafkaSecurity()
