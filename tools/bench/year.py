"""The Flemish year (issue 10): a year of all of Flanders replayed end to end through the
public interfaces, timed from the first input until everything is processed.

    uv run python -m tools.bench.year [--scale 0.1] [--seed N] [--budget SECONDS]

Input (tools/bench/year_data.py, deterministic per seed): every Flemish municipality,
~7,000 locations, ~69,000 requests and ~146,000 organiser events at scale 1.0. One loket
serves them all (intake and capacity serve one area: `year_env` lists every municipality).
- locations: capacity's `POST /locations`, as the demo organisers' own systems
  (client credentials), which then run them;
- capacity events: produced on each organiser's own inbound topic, signed in as that
  organiser's Kafka principal (the ACLs let it write only there): one batching
  producer per organiser system;
- requests: intake's `POST /imports` (CSV, at most 5,000 rows, loket staff only: a
  partner system may only `POST /requests`), a month's registrations at a time, once
  intake has learnt every location (a request naming an unknown one is refused).

Done means: every input accepted (an import's 201 means its requests are stored at
intake), and then, in every service's /metrics, consumer lag 0 and outbox backlog 0 while
no service applies, publishes or dead-letters anything more for longer than those
gauges take to refresh (so matching has read every request and place and published its
offers, and the others have read those). The time reported is when the last of that
work happened (the counters' last change), not when the quiet was confirmed. With
`--budget` it stops waiting after that many seconds and prints how far it got.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from contracts import new_event, to_kafka
from contracts.topics import organiser_inbound_topic
from tools.bench.area import flanders
from tools.bench.cpu import CpuWatch, cpu_line
from tools.bench.report import footer, load, verdict
from tools.bench.system import RunningSystem, running_system
from tools.bench.year_data import Year, generate_year, import_batches, import_csv
from tools.demo.accounts import STAFF, organiser_account
from tools.infra.kafka_principals import security

DEFAULT_SEED = 20260501
TARGET_SECONDS = 60.0  # at scale 1.0
SERVICES = ("intake", "capacity", "matching", "reporting")
LOCATION_CONCURRENCY, IMPORT_CONCURRENCY = 32, 2
IMPORT_ROWS = 5000  # intake's limit per import (services/intake/entrypoints/imports.py)
SAMPLE_SECONDS, PRINT_SECONDS = 1.0, 5.0
RELAY_METRICS_SECONDS = 5.0  # loketkit.relay refreshes loket_outbox_backlog this often
GIVE_UP_SECONDS = 3600.0
WORK = ("loket_events_applied", "loket_events_duplicate", "loket_outbox_published",
        "loket_dead_letters")
LOCATION_REGISTERED = "be.loket.LocationRegistered.v1"


def year_env() -> dict[str, str]:
    """What the services need for the year: every Flemish municipality in the loket's
    area, and consumer lag read every second (the default is every 10 s)."""
    return {"SERVICE_AREA_MUNICIPALITIES": ",".join(m.nis for m in flanders()),
            "CONSUMER_LAG_INTERVAL_SECONDS": "1"}


# --- each service's /metrics ---------------------------------------------------------------------


@dataclass
class Reading:
    """One service's figures: gauges as they are, counters summed over their labels."""

    lag: float | None = None
    backlog: float | None = None
    counters: dict[str, float] = field(default_factory=dict)
    locations_known: float = 0.0


def parse_metrics(text: str) -> Reading:
    reading = Reading()
    for family in text_string_to_metric_families(text):
        if family.name == "loket_consumer_lag":
            reading.lag = sum(sample.value for sample in family.samples)
        elif family.name == "loket_outbox_backlog":
            reading.backlog = sum(sample.value for sample in family.samples)
        elif family.name in WORK:
            totals = [s for s in family.samples if s.name.endswith("_total")]
            reading.counters[family.name] = sum(sample.value for sample in totals)
            if family.name == "loket_events_applied":
                reading.locations_known = sum(s.value for s in totals
                                              if s.labels.get("type") == LOCATION_REGISTERED)
    return reading


@dataclass
class Sample:
    at: float  # seconds since the first input
    readings: dict[str, Reading]

    @property
    def work(self) -> float:
        return sum(sum(r.counters.values()) for r in self.readings.values())

    @property
    def idle(self) -> bool:
        return all(not r.lag and not r.backlog for r in self.readings.values())

    def counter(self, service: str, name: str) -> float:
        return self.readings[service].counters.get(name, 0.0)


async def sample(client: httpx.AsyncClient, system: RunningSystem, started: float) -> Sample:
    async def one(name: str) -> Reading:
        response = await client.get(f"{system.url(name)}/metrics")
        response.raise_for_status()
        return parse_metrics(response.text)

    readings = await asyncio.gather(*(one(name) for name in SERVICES))
    return Sample(time.monotonic() - started, dict(zip(SERVICES, readings, strict=True)))


@dataclass
class Progress:
    """What the driver has put in so far, for the table."""

    locations: int = 0
    requests: int = 0
    events_acked: int = 0
    marks: dict[str, float] = field(default_factory=dict)  # phase -> seconds

    def mark(self, phase: str, started: float) -> None:
        self.marks[phase] = time.monotonic() - started


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


HEAD = (f"{'t (s)':>6} | {'consumer lag: intake':>20} {'capacity':>9} {'matching':>9} "
        f"{'reporting':>9} | {'outbox: intake':>14} {'capacity':>9} {'matching':>9} | "
        f"{'applied/s':>9} | sent: locations requests events")


def row(now: Sample, before: Sample, progress: Progress) -> str:
    lag = " ".join(f"{_cell(now.readings[s].lag):>{9 if i else 20}}"
                   for i, s in enumerate(SERVICES))
    outbox = " ".join(f"{_cell(now.readings[s].backlog):>{9 if i else 14}}"
                      for i, s in enumerate(SERVICES[:3]))
    applied = sum(now.counter(s, "loket_events_applied") - before.counter(s, "loket_events_applied")
                  for s in SERVICES) / max(now.at - before.at, 1e-9)
    return (f"{now.at:>6.0f} | {lag} | {outbox} | {applied:>9,.0f} | "
            f"{progress.locations:,} {progress.requests:,} {progress.events_acked:,}")


class Monitor:
    """Samples every second, prints a row every five, and tells when all is processed."""

    def __init__(self, client: httpx.AsyncClient, system: RunningSystem, started: float,
                 progress: Progress, quiet_seconds: float,
                 feeding: asyncio.Task[None]) -> None:
        self.client, self.system, self.started = client, system, started
        self.progress, self.quiet_seconds, self.feeding = progress, quiet_seconds, feeding

    def inputs_in(self) -> bool:
        """The driver is done; a driver that failed ends the replay with its error."""
        if not self.feeding.done():
            return False
        if not self.feeding.cancelled() and (error := self.feeding.exception()):
            raise error
        return True

    async def run(self, budget: float) -> tuple[Sample, Sample, bool]:
        """Samples until the inputs are in and the system has settled, or the budget is
        spent: (the first sample that showed the final counters, the last, settled?)."""
        print(HEAD, flush=True)
        printed = settled_at = now = await sample(self.client, self.system, self.started)
        print(row(now, now, self.progress), flush=True)
        last_change = 0.0  # when the work counters last moved
        while True:
            await asyncio.sleep(max(0.0, SAMPLE_SECONDS - (time.monotonic() - self.started
                                                           - now.at)))
            previous, now = now, await sample(self.client, self.system, self.started)
            if now.work != previous.work:
                last_change, settled_at = now.at, now
            if now.at - printed.at >= PRINT_SECONDS - 0.05:
                print(row(now, printed, self.progress), flush=True)
                printed = now
            settled = (self.inputs_in() and now.idle
                       and now.at - last_change >= self.quiet_seconds)
            if settled or now.at > budget:
                print(row(now, printed, self.progress), flush=True)
                return settled_at, now, settled


# --- the inputs -----------------------------------------------------------------------------------


async def token(system: RunningSystem, account: str) -> dict[str, str]:
    """A bearer header; TokenSource caches and renews, synchronously (hence the thread)."""
    return {"Authorization": f"Bearer {await asyncio.to_thread(system.tokens.token, account)}"}


async def bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[None]]]) -> None:
    gate = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


def refused(response: httpx.Response, what: str) -> RuntimeError:
    return RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")


async def register_locations(client: httpx.AsyncClient, system: RunningSystem, year: Year,
                             progress: Progress) -> None:
    """Each organiser's system registers its own locations (capacity's HTTP API)."""
    url = f"{system.url('capacity')}/locations"

    def job(body: dict[str, object], organiser: str, area: str) -> Callable[[], Awaitable[None]]:
        async def post() -> None:
            headers = await token(system, organiser_account(organiser))
            response = await client.post(url, json=body, headers=headers)
            if response.status_code != 201:
                raise refused(response, f"registering {body['location_id']}")
            if response.json()["service_area"] != area:
                raise RuntimeError(f"capacity serves {response.json()['service_area']!r}, "
                                   f"the year was generated for {area!r}")
            progress.locations += 1
        return post

    area = year.events[0].data.service_area if year.events else ""
    await bounded(LOCATION_CONCURRENCY,
                  (job(loc.body(), loc.organiser_id, area) for loc in year.locations))


Record = tuple[str, str, bytes, bytes, list[tuple[str, bytes]]]  # organiser, topic, ...


def kafka_records(year: Year, prefix: str) -> list[Record]:
    """(organiser, topic, key, value, headers) per event, made before the clock starts."""
    records: list[Record] = []
    for event in year.events:
        organiser = event.organiser_id
        key, value, headers = to_kafka(new_event(event.data, source=f"urn:organiser:{organiser}"))
        records.append((organiser, organiser_inbound_topic(organiser, prefix), key, value,
                        headers))
    return records


async def produce(system: RunningSystem, records: list[Record], progress: Progress) -> None:
    """One batching producer per organiser system (each signs in as its own principal)."""
    producers = {organiser: AIOKafkaProducer(
        bootstrap_servers=system.infra.bootstrap_servers, client_id=f"year-{organiser}",
        acks="all", enable_idempotence=True, linger_ms=20, max_batch_size=256 * 1024,
        **security(organiser).aiokafka()) for organiser in {r[0] for r in records}}
    for producer in producers.values():
        await producer.start()
    try:
        sent: list[asyncio.Future[object]] = []

        def acked(future: asyncio.Future[object]) -> None:
            progress.events_acked += not future.cancelled() and future.exception() is None

        for organiser, topic, key, value, headers in records:
            future = await producers[organiser].send(topic, value, key=key, headers=headers)
            future.add_done_callback(acked)
            sent.append(future)
        await asyncio.gather(*sent)  # raises the first failed delivery
    finally:
        for producer in producers.values():
            await producer.stop()


async def wait_for_locations(client: httpx.AsyncClient, system: RunningSystem, count: int,
                             baseline: float) -> None:
    """Intake learns the locations from capacity's LocationRegistered events."""
    while True:
        response = await client.get(f"{system.url('intake')}/metrics")
        if parse_metrics(response.text).locations_known - baseline >= count:
            return
        await asyncio.sleep(0.2)


async def run_imports(client: httpx.AsyncClient, system: RunningSystem,
                      batches: list[str], progress: Progress) -> None:
    """Loket staff import the year's registrations, a month at a time (in order)."""
    url = f"{system.url('intake')}/imports"

    def job(text: str) -> Callable[[], Awaitable[None]]:
        async def post() -> None:
            headers = await token(system, STAFF) | {
                "Content-Type": "text/csv", "Idempotency-Key": str(uuid.uuid4())}
            response = await client.post(url, content=text.encode(), headers=headers,
                                         params={"imported_by": "vlaams-jaar"})
            if response.status_code != 201:
                raise refused(response, "import")
            progress.requests += int(response.json()["rows"])
        return post

    await bounded(IMPORT_CONCURRENCY, (job(text) for text in batches))


# --- the replay -----------------------------------------------------------------------------------


def quiet_seconds(system: RunningSystem) -> float:
    """Longer than the slowest gauge takes to refresh, so a 0 read is a fresh 0."""
    lag = float(system.services["intake"].env.get("CONSUMER_LAG_INTERVAL_SECONDS", "10"))
    return max(lag, RELAY_METRICS_SECONDS) + 2 * SAMPLE_SECONDS


def check_env(system: RunningSystem) -> None:
    """Capacity and intake refuse a location or request outside their municipalities."""
    for name in ("intake", "capacity"):
        served = system.services[name].env.get("SERVICE_AREA_MUNICIPALITIES", "")
        missing = set(year_env()["SERVICE_AREA_MUNICIPALITIES"].split(",")) - set(
            served.split(","))
        if missing:
            raise RuntimeError(f"{name} does not serve {len(missing)} Flemish municipalities: "
                               "start the system with running_system(year_env())")


async def replay_year(system: RunningSystem, scale: float = 1.0, seed: int = DEFAULT_SEED,
                      budget: float = GIVE_UP_SECONDS) -> list[str]:
    """Replays the year and waits until it is processed, or `budget` seconds have passed."""
    check_env(system)
    print(f"== Flemish year (scale {scale}, seed {seed}) ==\n{load()}", flush=True)
    made = time.perf_counter()
    year = generate_year(seed, scale)
    records = kafka_records(year, system.topic_prefix)
    batches = [import_csv(rows) for rows in import_batches(year, IMPORT_ROWS)]
    print(f"input: {year.describe()}; {len(batches)} imports; made in "
          f"{time.perf_counter() - made:.1f}s", flush=True)
    progress = Progress()
    # Idle connections are dropped before uvicorn's 5 s keep-alive ends them: reusing one
    # the server is closing at that moment fails the request (httpx.ReadError).
    limits = httpx.Limits(max_connections=LOCATION_CONCURRENCY + 8, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(900, connect=10), limits=limits) as client:
        await token(system, STAFF)  # sign in before the clock starts
        for organiser in {loc.organiser_id for loc in year.locations}:
            await token(system, organiser_account(organiser))
        baseline = await sample(client, system, time.monotonic())
        watch = CpuWatch(system.pids())
        watch.start()
        started = time.monotonic()

        async def capacity_side() -> None:
            await produce(system, records, progress)
            progress.mark("capacity events acknowledged", started)

        async def intake_side() -> None:
            await wait_for_locations(client, system, len(year.locations),
                                     baseline.readings["intake"].locations_known)
            progress.mark("intake knew every location", started)
            await run_imports(client, system, batches, progress)
            progress.mark("requests imported", started)

        async def feed() -> None:
            await register_locations(client, system, year, progress)
            progress.mark("locations registered", started)
            await asyncio.gather(capacity_side(), intake_side())
            progress.mark("inputs in", started)

        feeding = asyncio.create_task(feed())
        monitor = Monitor(client, system, started, progress, quiet_seconds(system), feeding)
        try:
            settled_at, last, settled = await monitor.run(budget)
            print(cpu_line(watch.stop(), year.inputs(), "input"), flush=True)
        finally:
            feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeding
        await check_still_ours(client, system, year)
    footer()
    if not settled:
        return unfinished(year, progress, baseline, last, budget)
    return summary(year, progress, baseline, settled_at, scale)


async def check_still_ours(client: httpx.AsyncClient, system: RunningSystem, year: Year) -> None:
    """Another benchmark starting on the same namespace empties its topics and databases:
    every lag reads 0 then. Intake still listing the year's locations rules that out."""
    response = await client.get(f"{system.url('intake')}/locations")
    known = len(response.json()) if response.status_code == 200 else 0
    if known < len(year.locations):
        raise RuntimeError(f"intake lists {known} of the year's {len(year.locations)} "
                           "locations: the bench namespace was reset during the replay "
                           "(another benchmark started?); the figures are void")


def _delta(after: Sample, before: Sample, name: str, services: Iterable[str] = SERVICES
           ) -> float:
    return sum(after.counter(s, name) - before.counter(s, name) for s in services)


def unfinished(year: Year, progress: Progress, baseline: Sample, last: Sample,
               budget: float) -> list[str]:
    lag = ", ".join(f"{s} {_cell(last.readings[s].lag)}" for s in SERVICES)
    outbox = ", ".join(f"{s} {_cell(last.readings[s].backlog)}" for s in SERVICES[:3])
    applied = _delta(last, baseline, "loket_events_applied")
    phases = ", ".join(f"{name} {at:.1f}s" for name, at in progress.marks.items())
    return [
        f"Flemish year, scale {year.scale}: NOT processed within the {budget:,.0f} s budget",
        f"inputs in by then: {progress.locations:,}/{len(year.locations):,} locations, "
        f"{progress.requests:,}/{len(year.requests):,} requests, "
        f"{progress.events_acked:,}/{len(year.events):,} organiser events",
        f"left: consumer lag {lag}; outbox {outbox}",
        f"handled: {applied:,.0f} events applied by the four services "
        f"({applied / last.at:,.0f}/s); {_delta(last, baseline, 'loket_dead_letters'):,.0f} "
        f"dead letters",
        f"phases: {phases}",
    ]


def summary(year: Year, progress: Progress, baseline: Sample, settled: Sample,
            scale: float) -> list[str]:
    total = settled.at
    inputs = year.inputs()
    applied = _delta(settled, baseline, "loket_events_applied")
    offers = _delta(settled, baseline, "loket_outbox_published", ["matching"])
    dead = _delta(settled, baseline, "loket_dead_letters")
    judged = verdict(total <= TARGET_SECONDS) if scale == 1.0 else "not judged at this scale"
    target = f"target <= {TARGET_SECONDS:.0f} s at scale 1.0: {judged}"
    phases = ", ".join(f"{name} {at:.1f}s" for name, at in progress.marks.items())
    return [
        f"Flemish year, scale {scale}: {total:,.1f} s from the first input to everything "
        f"processed; {target}",
        f"inputs: {len(year.locations):,} locations (HTTP), {progress.requests:,} requests "
        f"(imports), {progress.events_acked:,} organiser events (Kafka) = {inputs:,} events, "
        f"{inputs / total:,.0f} events/s",
        f"handled: {applied:,.0f} events applied by the four services "
        f"({applied / total:,.0f}/s); matching published {offers:,.0f} events; "
        f"{dead:,.0f} dead letters",
        f"phases: {phases}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.year", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--budget", type=float, default=GIVE_UP_SECONDS,
                        help="stop waiting after this many seconds and say how far it got")
    args = parser.parse_args(argv)
    with running_system(year_env()) as system:
        lines = asyncio.run(replay_year(system, args.scale, args.seed, args.budget))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
