"""tools.deadletters against the real broker: dead letters written by the real consumer
are listed (never their values) and replayed to their original topic as they were."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from contracts.topics import DEAD_LETTER, ORGANISER_INBOUND_TOPICS, with_prefix
from loketkit.consumer import EventConsumer, Origin
from loketkit.kafka import KafkaDeadLetters
from tests.conftest import Servers
from tests.kafka_helpers import Record, collect, delete_topics
from tools.deadletters.__main__ import main
from tools.infra import ensure_topics
from tools.infra.kafka_acls import apply_acls, revoke_acls
from tools.infra.kafka_principals import security

pytestmark = pytest.mark.integration

KEY = b"kempen-gml"
# An organiser's own inbound topic: the operator replays there for the organiser.
INBOUND = ORGANISER_INBOUND_TOPICS.topic("org-zonneke")


def no_unit_of_work() -> Any:
    raise AssertionError("a malformed message never reaches a unit of work")


@pytest.fixture
async def prefix(servers: Servers) -> AsyncIterator[str]:
    """Topics of this test's own (the dead-letter topic and one input topic)."""
    name = f"dl{uuid.uuid4().hex[:8]}."
    topics = with_prefix(name, (DEAD_LETTER, INBOUND))
    await ensure_topics(servers.bootstrap, topics)
    await asyncio.to_thread(apply_acls, servers.bootstrap, name)  # the operator's, too
    yield name
    await delete_topics(servers.bootstrap, [topic.name for topic in topics])
    await asyncio.to_thread(revoke_acls, servers.bootstrap, name)


async def dead_letter(servers: Servers, prefix: str, service: str, value: bytes,
                      headers: list[tuple[str, bytes]], offset: int) -> None:
    """What a service's consumer does with a message that is not JSON."""
    broker = KafkaBroker(servers.bootstrap, security=security(service).faststream())
    async with broker:
        await broker.start()
        consumer = EventConsumer(service, {}, no_unit_of_work,
                                 KafkaDeadLetters(broker, prefix))
        origin = Origin(f"{prefix}{INBOUND.name}", 2, offset, KEY)
        assert await consumer.consume(value, headers, origin) == "dead-lettered"


async def run(argv: list[str], capsys: pytest.CaptureFixture[str]
              ) -> tuple[int, list[str], str]:
    """The command as an operator runs it (its own event loop, so in a thread here)."""
    code = await asyncio.to_thread(main, argv)
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


async def test_lists_dead_letters_by_service_without_their_values(
    servers: Servers, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = uuid.uuid4().hex
    headers = [("ce_type", b"be.loket.PlaceFreed.v1"), ("ce_id", b"org-1")]
    await dead_letter(servers, prefix, "capacity", f"{{{marker}".encode(), headers, offset=41)
    await dead_letter(servers, prefix, "matching", f"{{{marker}".encode(), headers, offset=42)
    connection = ["--bootstrap", servers.bootstrap, "--topic-prefix", prefix]

    code, lines, _ = await run(["list", *connection], capsys)
    assert code == 0 and len(lines) == 2
    first = lines[0]
    assert f"{prefix}{INBOUND.name}[2]@41" in first
    assert "  capacity  " in first and "be.loket.PlaceFreed.v1" in first
    assert "not JSON" in first and "attempts=0" in first
    assert marker not in "\n".join(lines)

    code, lines, _ = await run(["list", *connection, "--service", "matching"], capsys)
    assert code == 0 and [line.split()[2] for line in lines] == ["matching"]
    code, lines, _ = await run(
        ["list", *connection, "--topic", INBOUND.name, "--limit", "1"], capsys)
    assert code == 0 and len(lines) == 1 and "@41" in lines[0]
    code, lines, _ = await run(["list", *connection, "--reason-contains", "no such reason"], capsys)
    assert code == 0 and lines == []


async def test_replays_the_original_message_to_its_original_topic(
    servers: Servers, prefix: str, capsys: pytest.CaptureFixture[str], monkeypatch:
    pytest.MonkeyPatch,
) -> None:
    marker = uuid.uuid4().hex
    value = f"{{{marker}".encode()
    headers = [("ce_type", b"be.loket.PlaceFreed.v1"), ("ce_id", marker.encode()),
               ("ce_source", b"/org/1")]
    await dead_letter(servers, prefix, "capacity", value, headers, offset=7)
    # The environment names the broker and the prefix, as for the services.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", servers.bootstrap)
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", prefix)
    code, [line], _ = await run(["list"], capsys)
    assert code == 0
    position = line.split()[0]

    code, out, err = await run(["replay", "--all", "--dry-run"], capsys)
    assert code == 0 and out == [
        f"would replay {position} -> {prefix}{INBOUND.name} "
        f"(be.loket.PlaceFreed.v1, {len(value)} bytes)"]
    code, out, _ = await run(["replay", position], capsys)
    assert code == 0 and out[0].startswith(f"replayed {position} -> {prefix}")

    [replayed] = await collect(servers.bootstrap, f"{prefix}{INBOUND.name}",
                               match=lambda r: True, until=lambda found: len(found) >= 1,
                               settle=1.0)
    assert replayed == Record(f"{prefix}{INBOUND.name}", KEY, value,
                              {name: raw.decode() for name, raw in headers})


async def test_a_position_that_holds_no_dead_letter_is_a_clear_failure(
    servers: Servers, prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    connection = ["--bootstrap", servers.bootstrap, "--topic-prefix", prefix]
    code, out, err = await run(["replay", "0:5", *connection], capsys)
    assert code == 1 and out == [] and "no dead letter at 0:5" in err
    code, out, err = await run(["replay", "9:0", *connection], capsys)
    assert code == 1 and "has no partition 9" in err
    code, out, err = await run(["list", "--bootstrap", servers.bootstrap, "--topic-prefix",
                          "no-such-prefix."], capsys)
    assert code == 1 and "not found" in err
