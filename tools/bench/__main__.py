"""Throughput benchmark (issue 10): `uv run python -m tools.bench [--part intake|places|year|all]`.

Starts the system as the demo does (its own namespace: topics `bench.*`, databases
`<service>_bench`, ports 8201-8204), drives it only through its HTTP APIs and Kafka
topics, and prints each figure beside its ceiling measured in the same run:

- intake: POST /requests by a partner system, 16 clients, against a bare FastAPI +
  asyncpg insert (its own uvicorn process, same PostgreSQL). Target ratio >= 0.5.
- places: PlaceFreed on an organiser's inbound topic -> MatchProposed on the matches
  topic, through capacity and matching, against a plain two-hop aiokafka chain (each
  hop its own process, same broker). Target ratio >= 0.25.
- year: the "Flemish year" replay (tools/bench/year.py), scaled by --scale.

PostgreSQL is the benchmarks' own durable server (tools/bench/system.py); the summary
says what the server really does with a commit. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

import loketkit.kafka
from tools.bench.ceilings import ceiling_app, two_hop_chain
from tools.bench.report import load, table
from tools.bench.system import RunningSystem, running_system
from tools.bench.throughput import (
    COMPARISON_HEADINGS,
    CONCURRENCY,
    MEASUREMENT_HEADINGS,
    Comparison,
    Measurement,
    bearer,
    intake_requests,
    places_to_proposals,
    post_all,
    prepare_intake,
    request_body,
)
from tools.bench.year import replay_year, year_env
from tools.demo.accounts import PARTNER

INTAKE_TARGET, PLACES_TARGET = 0.5, 0.25
CHAIN_PER_PLACE = 10  # the chain is fast: more messages, so its run lasts long enough to time


def machine() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    kib = next((int(line.split()[1]) for line in meminfo.splitlines()
                if line.startswith("MemTotal:")), 0)
    return [f"machine: {os.cpu_count()} CPUs, {model}, {kib / 1024 / 1024:.1f} GiB RAM, "
            f"{platform.platform()}, Python {platform.python_version()}",
            f"date:    {datetime.now(UTC).isoformat(timespec='seconds')}   {load()}"]


async def durability(system: RunningSystem) -> list[str]:
    """What the server really does with a commit, and what the producers ask of Kafka."""
    connection = await asyncpg.connect(system.infra.admin_database_url)
    try:
        settings = {name: await connection.fetchval(f"SHOW {name}") for name in
                    ("server_version", "fsync", "synchronous_commit", "full_page_writes")}
    finally:
        await connection.close()
    durable = (settings["fsync"], settings["synchronous_commit"]) == ("on", "on")
    services = inspect.getsource(loketkit.kafka)
    services_durable = 'acks="all"' in services and "enable_idempotence=True" in services
    server = urlsplit(system.infra.admin_database_url).netloc
    return [
        f"durability: PostgreSQL {settings['server_version']} at {server}: "
        f"fsync={settings['fsync']}, "
        f"synchronous_commit={settings['synchronous_commit']}, "
        f"full_page_writes={settings['full_page_writes']}"
        + ("" if durable else "   <-- NOT durable: these figures flatter the system"),
        "            Kafka producers: the organisers', the chain's and its hops' use acks=all "
        "+ enable_idempotence; the services' (loketkit.kafka) "
        + ("too" if services_durable else "DO NOT (check loketkit/kafka.py)")
        + "; one local broker (replication factor 1)",
    ]


def show(title: str, rows: list[Measurement]) -> None:
    print(f"\n-- {title}")
    table(MEASUREMENT_HEADINGS, [row.row() for row in rows])


async def intake_part(system: RunningSystem, requests: int) -> Comparison:
    warm_up = max(50, requests // 10)
    print(f"\n[intake] POST /requests, {CONCURRENCY} clients, {requests} timed after "
          f"{warm_up} warm-up ...", flush=True)
    await prepare_intake(system)
    bodies = [request_body("bench-ceiling", n) for n in range(warm_up + requests)]
    authorization = bearer(system, PARTNER)  # the same bytes on the wire as for intake
    # The ceiling first: after intake's burst the other services still have work to do.
    async with ceiling_app(system) as url:
        await post_all(url, "/rows", bodies[:warm_up], "ceiling warm-up", authorization)
        ceiling = await post_all(url, "/rows", bodies[warm_up:],
                                 "ceiling: FastAPI + asyncpg INSERT", authorization)
    ours = await intake_requests(system, requests, warm_up)
    show("intake against its ceiling", [ours, ceiling])
    return Comparison(f"intake POST /requests ({CONCURRENCY} clients)", "req/s", ours, ceiling,
                      INTAKE_TARGET)


async def places_part(system: RunningSystem, places: int) -> Comparison:
    warm_up = max(20, places // 20)
    messages = places * CHAIN_PER_PLACE
    print(f"\n[places] plain two-hop chain: {messages} messages after "
          f"{warm_up * CHAIN_PER_PLACE} warm-up ...", flush=True)
    chain = await two_hop_chain(system, messages, warm_up * CHAIN_PER_PLACE)
    print(f"[places] PlaceFreed -> MatchProposed: {places} places after {warm_up} warm-up ...",
          flush=True)
    ours = await places_to_proposals(system, places, warm_up)
    show("freed places to proposals against a plain two-hop chain", [ours, chain])
    return Comparison("PlaceFreed -> MatchProposed", "/s", ours, chain, PLACES_TARGET)


async def run(system: RunningSystem, args: argparse.Namespace) -> None:
    print("\n".join(await durability(system)), flush=True)
    comparisons: list[Comparison] = []
    year: list[str] = []
    if args.part in ("intake", "all"):
        comparisons.append(await intake_part(system, args.requests))
    if args.part in ("places", "all"):
        comparisons.append(await places_part(system, args.places))
    if args.part in ("year", "all"):
        print(f"\n[year] the Flemish year, scale {args.scale:g} ...", flush=True)
        year = await replay_year(system, args.scale)  # prints its progress itself
    print("\n== summary ==")
    if comparisons:
        table(COMPARISON_HEADINGS, [comparison.row() for comparison in comparisons])
    if args.part in ("year", "all"):
        print("\n".join(year))
    print("\n".join(machine()))
    print("\n".join(await durability(system)), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("intake", "places", "year", "all"), default="all")
    parser.add_argument("--requests", type=int, default=2000,
                        help="timed POST /requests (and ceiling inserts); default 2000")
    parser.add_argument("--places", type=int, default=1000,
                        help="timed PlaceFreed events; the chain sends 10 times as many")
    parser.add_argument("--scale", type=float, default=1.0, help="passed to the year replay")
    args = parser.parse_args()
    print("== throughput benchmark (issue 10) ==")
    print("\n".join(machine()))
    print("Starting Kafka, PostgreSQL, Keycloak and the four services (namespace bench.) ...",
          flush=True)
    # The year needs every Flemish municipality served (and lag read every second).
    with running_system(year_env() if args.part in ("year", "all") else None) as system:
        asyncio.run(run(system, args))
    print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
