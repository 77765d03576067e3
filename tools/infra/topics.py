"""Create the declared Kafka topics (contracts/topics.py): nothing relies on auto-creation.

Signed in as the admin principal (a super user: tools.infra.kafka_principals), or as
the environment says when it sets KAFKA_SECURITY_PROTOCOL (a real cluster's admin).
`ensure_namespace` prepares one KAFKA_TOPIC_PREFIX namespace: the declared topics,
the demo organisers' inbound topics and the ACLs of tools.infra.kafka_acls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from contracts.topics import ORGANISER_INBOUND_TOPICS, TOPICS, TopicSpec, with_prefix
from loketkit.kafka_security import KafkaSecurity
from tools.infra.kafka_acls import apply_acls
from tools.infra.kafka_principals import ADMIN, DEMO_ORGANISERS, from_env_or

UNKNOWN_TOPIC = 3
LEADER_NOT_AVAILABLE = 5


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition count per topic, retrying while fresh topics are still propagating."""
    for _ in range(50):
        described = await admin.describe_topics(names)
        pending = [t for t in described if t["error_code"] in (UNKNOWN_TOPIC, LEADER_NOT_AVAILABLE)]
        if not pending:
            break
        await asyncio.sleep(0.2)
    for topic in described:
        if topic["error_code"]:
            raise for_code(topic["error_code"])(f"describing topic {topic['topic']}")
    return {t["topic"]: len(t["partitions"]) for t in described}


def infra_security() -> KafkaSecurity:
    """Whoever the environment says (KAFKA_SECURITY_PROTOCOL...), else the local admin."""
    return from_env_or(ADMIN)


def namespace_topics(prefix: str = "", organisers: Iterable[str] = DEMO_ORGANISERS,
                     ) -> tuple[TopicSpec, ...]:
    """The declared topics and the organisers' own inbound topics, under `prefix`."""
    return with_prefix(prefix) + tuple(
        ORGANISER_INBOUND_TOPICS.topic(organiser, prefix) for organiser in organisers)


async def ensure_namespace(
    bootstrap: str, prefix: str = "", organisers: Iterable[str] = DEMO_ORGANISERS,
    security: KafkaSecurity | None = None,
) -> tuple[TopicSpec, ...]:
    """Topics and ACLs of one namespace; returns the topics (for a test to delete them)."""
    security = security or infra_security()
    organisers = tuple(organisers)
    topics = namespace_topics(prefix, organisers)
    await ensure_topics(bootstrap, topics, security=security)
    await asyncio.to_thread(apply_acls, bootstrap, prefix, organisers, security)
    return topics


def _admin(bootstrap: str, security: KafkaSecurity | None) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="loket-infra",
                               **(security or infra_security()).aiokafka())


async def ensure_topics(
    bootstrap: str, topics: Iterable[TopicSpec] = TOPICS, *, replication_factor: int = 1,
    security: KafkaSecurity | None = None,
) -> None:
    """Create missing topics; leave existing ones alone but insist on the declared partitions."""
    wanted = {spec.name: spec for spec in topics}
    admin = _admin(bootstrap, security)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=spec.config)
            for name, spec in wanted.items() if name not in existing
        ]
        if missing:
            response = await admin.create_topics(missing)
            for name, code, *message in response.topic_errors:
                # Already exists: a concurrent `up` beat us to it, fine.
                if code and code != TopicAlreadyExistsError.errno:
                    raise for_code(code)(f"creating topic {name}: {message}")
        counts = await _partition_counts(admin, list(wanted))
    finally:
        await admin.close()
    wrong = {n: (counts[n], s.partitions) for n, s in wanted.items() if counts[n] != s.partitions}
    if wrong:
        details = ", ".join(f"{n} has {have}, declared {want}" for n, (have, want) in wrong.items())
        raise RuntimeError(
            f"Kafka topics with the wrong partition count: {details}. "
            "Partitions cannot shrink; delete the topic (or .cache/kafka/data locally) and rerun."
        )


async def recreate_topics(
    bootstrap: str, topics: Iterable[TopicSpec] = TOPICS, wait_seconds: float = 60.0,
    security: KafkaSecurity | None = None,
) -> None:
    """Delete the topics (emptying them) and create them again; for a fresh local demo."""
    specs = list(topics)
    names = [spec.name for spec in specs]
    admin = _admin(bootstrap, security)
    await admin.start()
    try:
        present = [name for name in names if name in set(await admin.list_topics())]
        if present:
            await admin.delete_topics(present)
        # Deletion completes in the background; creating too early would find them still there.
        deadline = asyncio.get_running_loop().time() + wait_seconds
        while set(names) & set(await admin.list_topics()):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"Kafka did not delete {present} within {wait_seconds:.0f}s")
            await asyncio.sleep(0.3)
    finally:
        await admin.close()
    await ensure_topics(bootstrap, specs, security=security)
