"""`python -m tools.infra.create_topics --bootstrap HOST:PORT`: create the declared topics.

Waits for the broker, then creates every topic of contracts/topics.py that is
missing (existing ones are left alone, but must have the declared partitions),
under the services' KAFKA_TOPIC_PREFIX when one is set, and each organiser's own
inbound topic (--organiser, default $KAFKA_ORGANISERS, comma-separated, else the
demo organisers). Signs in as KAFKA_USERNAME / KAFKA_PASSWORD (an admin principal)
when KAFKA_SECURITY_PROTOCOL says so; the ACLs are `python -m tools.infra.kafka_acls`.
Idempotent, so docker-compose's one-shot `create-topics` service and the
Kubernetes Job can run it on every deployment. Exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import sys
import time
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from contracts.topics import ORGANISER_INBOUND_TOPICS, TOPICS, TopicSpec, with_prefix
from loketkit.kafka_security import KafkaSecurity
from tools.infra.kafka import wait_for_broker
from tools.infra.kafka_principals import DEMO_ORGANISERS
from tools.infra.topics import ensure_topics

DEFAULT_TIMEOUT_S = 120.0


def build_parser() -> argparse.ArgumentParser:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    parser = argparse.ArgumentParser(
        prog="python -m tools.infra.create_topics",
        description="Wait for Kafka, then create the topics declared in contracts/topics.py.",
    )
    parser.add_argument(
        "--bootstrap", default=bootstrap, required=bootstrap is None, metavar="HOST:PORT[,...]",
        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS)",
    )
    parser.add_argument(
        "--topic-prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""), metavar="PREFIX",
        help="namespace before every topic name, as the services' KAFKA_TOPIC_PREFIX "
             "(default: $KAFKA_TOPIC_PREFIX, else none)",
    )
    organisers = os.environ.get("KAFKA_ORGANISERS")
    parser.add_argument(
        "--organiser", dest="organisers", action="append", metavar="ID",
        default=None if organisers is None else [o for o in organisers.split(",") if o],
        help="an organiser whose own inbound topic to create (repeatable; default: "
             f"$KAFKA_ORGANISERS, else {', '.join(DEMO_ORGANISERS)})",
    )
    parser.add_argument(
        "--replication-factor", type=positive_int, default=1, metavar="N",
        help="replicas of each new topic: 1 on a single broker, 3 on a production cluster",
    )
    parser.add_argument(
        "--min-insync-replicas", type=positive_int, default=None, metavar="N",
        help="min.insync.replicas of each new topic (default: the broker's setting)",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
        help=f"seconds to wait for the broker and retry transient errors "
             f"(default {DEFAULT_TIMEOUT_S:.0f})",
    )
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def declared_topics(
    min_insync_replicas: int | None = None, prefix: str = "", organisers: Sequence[str] = (),
) -> tuple[TopicSpec, ...]:
    topics = (with_prefix(prefix) if prefix else TOPICS) + tuple(
        ORGANISER_INBOUND_TOPICS.topic(organiser, prefix) for organiser in organisers)
    if min_insync_replicas is None:
        return topics
    extra = {"min.insync.replicas": str(min_insync_replicas)}
    return tuple(
        dataclasses.replace(spec, extra_config={**spec.extra_config, **extra}) for spec in topics
    )


async def existing_topics(bootstrap: str, security: KafkaSecurity) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="loket-create-topics",
                                **security.aiokafka())
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def create_topics(
    bootstrap: str, topics: Sequence[TopicSpec], replication_factor: int, deadline: float,
    security: KafkaSecurity | None = None,
) -> set[str]:
    """Create the missing topics; returns the names that existed before. Retries errors
    the broker calls retriable (a controller still starting) until the deadline."""
    while True:
        try:
            security = security or KafkaSecurity.from_env()
            before = await existing_topics(bootstrap, security)
            await ensure_topics(bootstrap, topics, replication_factor=replication_factor,
                                security=security)
            return before
        except (KafkaError, OSError) as error:
            retriable = isinstance(error, OSError) or getattr(error, "retriable", False)
            if not retriable or time.monotonic() > deadline:
                raise
            print(f"retrying after {type(error).__name__}: {error}", file=sys.stderr)
            await asyncio.sleep(1.0)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    deadline = time.monotonic() + args.timeout
    organisers = DEMO_ORGANISERS if args.organisers is None else tuple(args.organisers)
    topics = declared_topics(args.min_insync_replicas, args.topic_prefix, organisers)
    try:
        wait_for_broker(args.bootstrap, timeout=args.timeout)
        before = asyncio.run(
            create_topics(args.bootstrap, topics, args.replication_factor, deadline)
        )
    except (RuntimeError, ValueError, KafkaError, OSError) as error:
        print(f"creating topics on {args.bootstrap} failed: {error}", file=sys.stderr)
        return 1
    for spec in topics:
        state = "exists" if spec.name in before else "created"
        print(f"{spec.name}: {state} ({spec.partitions} partitions)")
    print(f"{len(topics)} topics ready on {args.bootstrap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
