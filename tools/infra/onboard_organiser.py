"""Onboard an organiser's own system onto Kafka: its SCRAM user, its own inbound topic
and the ACL that lets it write there (and nowhere else). Prints the client settings to
hand to the organiser's IT supplier.

    python -m tools.infra.onboard_organiser <organiser_id> [--password P] [--prefix P]
                                            [--bootstrap HOST:PORT]

Run as an admin principal: $KAFKA_SECURITY_PROTOCOL, $KAFKA_USERNAME and
$KAFKA_PASSWORD when given, else the local admin. Without --password a random one
is made (printed once; keep it in the organiser's secret store). Running it again
changes the password and leaves the topic and ACL as they are. The capacity service
picks the new topic up at its next metadata refresh (KAFKA_METADATA_MAX_AGE_MS), and
accepts from it announcements only for locations registered with this organiser_id.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import sys
from collections.abc import Sequence

from aiokafka.errors import KafkaError
from confluent_kafka import KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from contracts.topics import ORGANISER_ID_PATTERN, ORGANISER_INBOUND_TOPICS
from loketkit.kafka_security import KafkaSecurity
from tools.infra.kafka_acls import admin_client, apply_grants, organiser_grants
from tools.infra.kafka_principals import ADMIN, ADMIN_SECURITY, MECHANISM, from_env_or
from tools.infra.topics import ensure_topics

SCRAM_ITERATIONS = 8192


def create_user(bootstrap: str, name: str, password: str, security: KafkaSecurity,
                timeout: float = 30.0) -> None:
    """Create or update the SCRAM-SHA-256 credential of `name`."""
    upsert = UserScramCredentialUpsertion(
        name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, SCRAM_ITERATIONS),
        password.encode())
    admin = admin_client(bootstrap, security)  # kept until the answers are in
    futures = admin.alter_user_scram_credentials([upsert], request_timeout=timeout)
    for future in futures.values():
        future.result(timeout)


async def onboard(bootstrap: str, organiser_id: str, password: str, prefix: str = "",
            security: KafkaSecurity = ADMIN_SECURITY) -> dict[str, str]:
    """User, topic, ACL; returns the organiser's client settings (librdkafka keys)."""
    if not re.fullmatch(ORGANISER_ID_PATTERN, organiser_id):
        raise ValueError("an organiser id is lower-case letters, digits and hyphens")
    topic = ORGANISER_INBOUND_TOPICS.topic(organiser_id, prefix)
    await asyncio.to_thread(create_user, bootstrap, organiser_id, password, security)
    await ensure_topics(bootstrap, [topic], security=security)
    await asyncio.to_thread(apply_grants, bootstrap, organiser_grants(organiser_id), prefix,
                            security)
    return {"bootstrap.servers": bootstrap, "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": MECHANISM, "sasl.username": organiser_id,
            "sasl.password": password, "topic": topic.name}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.infra.onboard_organiser",
                                     description="Give an organiser's system its Kafka identity.")
    parser.add_argument("organiser_id")
    parser.add_argument("--password", help="default: a new random one")
    parser.add_argument("--prefix", default=os.environ.get("KAFKA_TOPIC_PREFIX", ""))
    parser.add_argument("--bootstrap",
                        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "127.0.0.1:9092")
    args = parser.parse_args(argv)
    security = from_env_or(ADMIN)
    password = args.password or secrets.token_urlsafe(24)
    try:
        settings = asyncio.run(
            onboard(args.bootstrap, args.organiser_id, password, args.prefix, security))
    except (ValueError, KafkaException, KafkaError, OSError) as error:
        print(f"error: onboarding {args.organiser_id}: {error}", file=sys.stderr)
        return 1
    print(f"# Kafka client settings for {args.organiser_id} (keep the password secret)")
    for key, value in settings.items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
