"""The ceilings our figures are divided by, run on the same machine, in the same run:

- `ceiling_app`: a bare FastAPI + asyncpg endpoint inserting one row (tools/bench/ceiling_app.py),
  its own uvicorn process on the same PostgreSQL, for intake's POST /requests;
- `two_hop_chain`: a plain aiokafka chain on the same broker, a producer feeding topic A,
  hop 1 A -> B and hop 2 B -> C each in its own OS process (getmany, produce with acks=all
  and idempotence, commit per batch), measured at C: for PlaceFreed -> capacity ->
  matching -> MatchProposed, which is two consume -> produce hops too.

A hop runs as `python -m tools.bench.ceilings hop BOOTSTRAP SOURCE TARGET GROUP`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import IO

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from contracts.topics import CAPACITY, DAY_MS, TopicSpec
from tools.bench.system import CEILING_PORT, LOG_DIR, RunningSystem
from tools.bench.throughput import (
    Measurement,
    Outgoing,
    durable_producer,
    header,
    place_freed,
    publish_and_collect,
)
from tools.infra import create_database
from tools.infra.topics import infra_security, recreate_topics

CEILING_DATABASE = "ceiling_bench"
READY_SECONDS = 60.0


# --- intake's ceiling -----------------------------------------------------------------------


@asynccontextmanager
async def ceiling_app(system: RunningSystem) -> AsyncIterator[str]:
    """The bare app on CEILING_PORT over an empty database; yields its base URL."""
    url = await create_database(system.infra.admin_database_url, CEILING_DATABASE,
                                drop_existing=True)
    process = _start_ceiling_app(url.replace("+asyncpg", ""))  # asyncpg's own DSN
    base = f"http://127.0.0.1:{CEILING_PORT}"
    try:
        await _wait_healthy(base, process)
        yield base
    finally:
        _stop(process)


def _start_ceiling_app(database_url: str) -> subprocess.Popen[bytes]:
    env = os.environ | {"CEILING_DATABASE_URL": database_url,
                        "CEILING_PORT": str(CEILING_PORT), "PYTHONUNBUFFERED": "1"}
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with (LOG_DIR / "ceiling.log").open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "tools.bench.ceiling_app"], env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


async def _wait_healthy(base: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(int(READY_SECONDS / 0.2)):
            if process.poll() is not None:
                raise RuntimeError(f"the ceiling app exited; see {LOG_DIR / 'ceiling.log'}")
            try:
                if (await http.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"the ceiling app did not answer; see {LOG_DIR / 'ceiling.log'}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the matching pipeline's ceiling: two plain hops --------------------------------------


def chain_topics(prefix: str) -> tuple[TopicSpec, ...]:
    """Topics A, B, C: partitions as the system's topics, short retention."""
    return tuple(TopicSpec(f"{prefix}bench.chain.{name}", CAPACITY.partitions, CAPACITY.key,
                           DAY_MS, "benchmark ceiling: a plain consume -> produce chain")
                 for name in ("a", "b", "c"))


async def hop(bootstrap: str, source: str, target: str, group: str) -> None:
    """Consume a batch, produce each record on (acks=all, idempotent), wait for the acks,
    commit the batch: the least a durable consume -> produce step can do."""
    signed_in = infra_security().aiokafka()
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                **signed_in)
    producer = durable_producer(bootstrap, infra_security())
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
    await asyncio.gather(consumer.start(), producer.start())
    announced = False
    try:
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=100)
            if not announced and consumer.assignment():
                print("ready", flush=True)  # the parent waits for this before publishing
                announced = True
            acks = [await producer.send(target, record.value, key=record.key,
                                        headers=list(record.headers))
                    for records in batches.values() for record in records]
            if acks:
                await asyncio.gather(*acks)
                await consumer.commit()
    finally:
        await asyncio.gather(consumer.stop(), producer.stop())


@contextmanager
def hop_processes(bootstrap: str, topics: Sequence[TopicSpec]) -> Iterator[list[IO[bytes]]]:
    """One OS process per hop; yields their stdout pipes (each says "ready" once joined)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    run = uuid.uuid4().hex[:8]  # fresh groups: no offsets left from an earlier run
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number, (source, target) in enumerate(zip(topics, topics[1:], strict=False), 1):
            with (LOG_DIR / f"hop{number}.log").open("ab") as log:
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "tools.bench.ceilings", "hop", bootstrap,
                     source.name, target.name, f"{source.name}.hop{number}.{run}"],
                    stdout=subprocess.PIPE, stderr=log, start_new_session=True))
        yield [process.stdout for process in processes if process.stdout is not None]
    finally:
        for process in processes:
            _stop(process)


async def _until_ready(pipe: IO[bytes]) -> None:
    line = await asyncio.wait_for(asyncio.to_thread(pipe.readline), READY_SECONDS)
    if line.strip() != b"ready":
        raise RuntimeError(f"a chain hop did not start; see {LOG_DIR}/hop*.log")


def event_id(record: ConsumerRecord[bytes, bytes]) -> str | None:
    return header(record, "ce_id")


def chain_messages(topic: str, count: int) -> list[Outgoing]:
    """The same PlaceFreed messages an organiser sends (same size and headers), on A."""
    messages = []
    for number in range(count):
        message = place_freed("", f"chain-loc-{number % 40:03d}", number % 40, number)
        ident = next(value.decode() for name, value in message.headers if name == "ce_id")
        messages.append(dataclasses.replace(message, ident=ident, topic=topic, sender="chain"))
    return messages


async def two_hop_chain(system: RunningSystem, count: int, warm_up: int) -> Measurement:
    """Messages per second from the producer to topic C, and each one's latency."""
    bootstrap = system.infra.bootstrap_servers
    topics = chain_topics(system.topic_prefix)
    await recreate_topics(bootstrap, topics, security=infra_security())
    messages = chain_messages(topics[0].name, warm_up + count)
    with hop_processes(bootstrap, topics) as pipes:
        await asyncio.gather(*(_until_ready(pipe) for pipe in pipes))
        producer = durable_producer(bootstrap, infra_security())
        await producer.start()
        try:
            producers = {"chain": producer}
            await publish_and_collect(bootstrap, producers, messages[:warm_up], topics[-1].name,
                                      event_id)
            arrivals = await publish_and_collect(bootstrap, producers, messages[warm_up:],
                                                 topics[-1].name, event_id)
        finally:
            await producer.stop()
    return arrivals.measurement("plain aiokafka A -> B -> C")


def main(argv: list[str]) -> int:
    if len(argv) != 5 or argv[0] != "hop":
        print("usage: python -m tools.bench.ceilings hop BOOTSTRAP SOURCE TARGET GROUP",
              file=sys.stderr)
        return 2
    asyncio.run(hop(*argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
