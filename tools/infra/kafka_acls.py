"""Who may read and write what on Kafka: one declarative table, applied as ACLs.

The broker denies everything no ACL allows (StandardAuthorizer,
allow.everyone.if.no.acl.found=false), so this table is the whole story:
- each service writes only its own topic (intake: requests, capacity: capacity,
  matching: matches; reporting: none) and the dead-letter topic, reads its input
  topics (services/*/bootstrap.py) and uses its own consumer group;
- capacity reads every organiser's inbound topic (a PREFIXED grant);
- an organiser's system writes only its own inbound topic, nothing else;
- the operator (tools/deadletters) reads the dead-letter topic and writes back to
  every original topic, for replay.
Topic and group names take the KAFKA_TOPIC_PREFIX namespace in front: `apply`
grants for one prefix (tests and the end-to-end run call it for theirs). Creating
an ACL that exists already changes nothing, so applying again is safe.

    python -m tools.infra.kafka_acls apply [--prefix P] [--organiser ID ...]
    python -m tools.infra.kafka_acls show  [--prefix P]

(signs in as $KAFKA_SECURITY_PROTOCOL, $KAFKA_USERNAME and $KAFKA_PASSWORD say, else
as the local admin; on $KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from contracts.topics import (
    CAPACITY,
    DEAD_LETTER,
    MATCHES,
    ORGANISER_INBOUND_TOPICS,
    REQUESTS,
    organiser_inbound_topic,
)
from loketkit.kafka_security import KafkaSecurity
from tools.infra.kafka_principals import (
    ADMIN,
    ADMIN_SECURITY,
    DEMO_ORGANISERS,
    OPERATOR,
    from_env_or,
)

CLUSTER = "kafka-cluster"
INBOUND = ORGANISER_INBOUND_TOPICS.stem  # every organiser's topic starts with it

# service -> the topics it publishes (its outbox) and the topics it consumes
OWN_TOPICS = {"intake": (REQUESTS.name,), "capacity": (CAPACITY.name,),
              "matching": (MATCHES.name,), "reporting": ()}
INPUT_TOPICS = {"intake": (CAPACITY.name, MATCHES.name),
                "capacity": (MATCHES.name, REQUESTS.name),
                "matching": (REQUESTS.name, CAPACITY.name),
                "reporting": (REQUESTS.name, CAPACITY.name, MATCHES.name)}
INPUT_PREFIXES = {"capacity": (INBOUND,)}
# What the operator may replay to: every topic a dead letter can come from.
REPLAY_TOPICS = (REQUESTS.name, CAPACITY.name, MATCHES.name)


@dataclass(frozen=True)
class Grant:
    """ALLOW `operation` on a resource to `User:<principal>`; names without the prefix."""

    principal: str
    resource: str  # topic, group, cluster
    name: str
    operation: str  # READ, WRITE, DESCRIBE, IDEMPOTENT_WRITE
    prefixed: bool = False  # the name is a prefix (PREFIXED pattern), not one resource

    def binding(self, prefix: str = "") -> AclBinding:
        resource = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP,
                    "cluster": ResourceType.BROKER}[self.resource]
        name = CLUSTER if self.resource == "cluster" else f"{prefix}{self.name}"
        pattern = ResourcePatternType.PREFIXED if self.prefixed else ResourcePatternType.LITERAL
        return AclBinding(resource, name, pattern, f"User:{self.principal}", "*",
                          AclOperation[self.operation], AclPermissionType.ALLOW)


def _topic(principal: str, name: str, *operations: str, prefixed: bool = False) -> list[Grant]:
    return [Grant(principal, "topic", name, op, prefixed) for op in operations]


def service_grants(service: str) -> list[Grant]:
    grants = [Grant(service, "cluster", CLUSTER, "IDEMPOTENT_WRITE"),
              Grant(service, "group", f"loket-{service}", "READ")]
    for topic in (*OWN_TOPICS[service], DEAD_LETTER.name):
        grants += _topic(service, topic, "WRITE", "DESCRIBE")
    for topic in INPUT_TOPICS[service]:
        grants += _topic(service, topic, "READ", "DESCRIBE")
    for stem in INPUT_PREFIXES.get(service, ()):
        grants += _topic(service, stem, "READ", "DESCRIBE", prefixed=True)
    return grants


def operator_grants() -> list[Grant]:
    grants = [Grant(OPERATOR, "cluster", CLUSTER, "IDEMPOTENT_WRITE")]
    grants += _topic(OPERATOR, DEAD_LETTER.name, "READ", "DESCRIBE")
    for topic in REPLAY_TOPICS:
        grants += _topic(OPERATOR, topic, "WRITE", "DESCRIBE")
    # An organiser's announcement replayed goes back to that organiser's own topic.
    return grants + _topic(OPERATOR, INBOUND, "WRITE", "DESCRIBE", prefixed=True)


def organiser_grants(organiser_id: str) -> list[Grant]:
    """An organiser's system: its own inbound topic, to write; nothing else."""
    return _topic(organiser_id, organiser_inbound_topic(organiser_id), "WRITE", "DESCRIBE")


def acl_table(organisers: Iterable[str] = DEMO_ORGANISERS) -> list[Grant]:
    grants = [grant for service in OWN_TOPICS for grant in service_grants(service)]
    grants += operator_grants()
    for organiser_id in organisers:
        grants += organiser_grants(organiser_id)
    return grants


def admin_client(bootstrap: str, security: KafkaSecurity = ADMIN_SECURITY) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, **security.confluent()})


def apply_grants(bootstrap: str, grants: Sequence[Grant], prefix: str = "",
                 security: KafkaSecurity = ADMIN_SECURITY, timeout: float = 30.0) -> int:
    """Create the ACLs (idempotent); returns how many bindings were asked for."""
    bindings = list(dict.fromkeys(grant.binding(prefix) for grant in grants))
    if not bindings:
        return 0
    admin = admin_client(bootstrap, security)  # kept until the answers are in
    futures = admin.create_acls(bindings, request_timeout=timeout)
    for future in futures.values():
        future.result(timeout)
    _wait_until_enforced(admin, bindings, timeout)
    return len(bindings)


def _wait_until_enforced(admin: AdminClient, bindings: list[AclBinding], timeout: float) -> None:
    """The controller has the ACLs once create_acls answers; the broker's authorizer a
    moment later. DescribeAcls reads the broker's authorizer: wait until it has them all,
    so a client started next is judged by them."""
    anything: Any = None  # a filter's None matches any name, principal or host
    everything = AclBindingFilter(ResourceType.ANY, anything, ResourcePatternType.ANY,
                                  anything, anything, AclOperation.ANY, AclPermissionType.ANY)
    deadline = time.monotonic() + timeout
    while True:
        present = set(admin.describe_acls(everything, request_timeout=timeout).result(timeout))
        if present.issuperset(bindings):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the broker did not enforce {len(set(bindings) - present)} "
                               f"new ACLs within {timeout:.0f}s")
        time.sleep(0.1)


def apply_acls(bootstrap: str, prefix: str = "", organisers: Iterable[str] = DEMO_ORGANISERS,
               security: KafkaSecurity = ADMIN_SECURITY) -> int:
    """The whole table for one namespace prefix."""
    return apply_grants(bootstrap, acl_table(organisers), prefix, security)


def revoke_acls(bootstrap: str, prefix: str, organisers: Iterable[str] = DEMO_ORGANISERS,
                security: KafkaSecurity = ADMIN_SECURITY, timeout: float = 30.0) -> None:
    """Remove one namespace's ACLs again (a test's, when it is done)."""
    filters = [AclBindingFilter(b.restype, b.name, b.resource_pattern_type, b.principal,
                                b.host, b.operation, b.permission_type)
               for b in dict.fromkeys(g.binding(prefix) for g in acl_table(organisers)
                                      if g.resource != "cluster")]
    admin = admin_client(bootstrap, security)  # kept until the answers are in
    for future in admin.delete_acls(filters, request_timeout=timeout).values():
        future.result(timeout)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.infra.kafka_acls",
                                     description="Apply or show the Kafka ACL table.")
    parser.add_argument("command", choices=["apply", "show"])
    parser.add_argument("--prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    parser.add_argument("--organiser", action="append", default=None,
                        help="organiser ids to grant (default: the demo organisers)")
    parser.add_argument("--bootstrap",
                        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092")
    args = parser.parse_args(argv)
    organisers = DEMO_ORGANISERS if args.organiser is None else tuple(args.organiser)
    if args.command == "show":
        for grant in acl_table(organisers):
            pattern = "PREFIXED" if grant.prefixed else "LITERAL"
            name = grant.name if grant.resource == "cluster" else f"{args.prefix}{grant.name}"
            print(f"User:{grant.principal:<14} {grant.operation:<16} {grant.resource:<7} "
                  f"{pattern:<8} {name}")
        return 0
    security = from_env_or(ADMIN)
    try:
        count = apply_acls(args.bootstrap, args.prefix, organisers, security)
    except KafkaException as error:
        print(f"error: applying ACLs on {args.bootstrap}: {error}", file=sys.stderr)
        return 1
    print(f"{count} ACLs in place for prefix {args.prefix!r} on {args.bootstrap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
