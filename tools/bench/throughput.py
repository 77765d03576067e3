"""Throughput figures of the running system, and the tools both they and their ceilings use.

- `Measurement`, `percentile`, `Comparison`: pure arithmetic and the rows printed;
- `post_all`: a lean HTTP/1.1 load generator (keep-alive connections, one per client),
  so the generator costs little CPU beside the server on the same machine;
- `publish_and_collect`: publish pre-built Kafka messages as fast as a producer can and
  note when each one's consequence arrives on another topic;
- `intake_requests`, `places_to_proposals`: the two figures, driven only through the
  public HTTP APIs (with real bearer tokens) and Kafka topics.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from contracts import from_kafka, new_event, to_kafka
from contracts.events import MatchProposed, PlaceFreed
from contracts.schedule import FULL_WEEK
from contracts.topics import MATCHES, organiser_inbound_topic
from loketkit.kafka_security import KafkaSecurity
from tools.bench.cpu import CpuWatch, cpu_line
from tools.bench.system import RunningSystem
from tools.demo.accounts import PARTNER, STAFF, organiser_account
from tools.infra.kafka_principals import DEMO_ORGANISERS, security
from tools.infra.topics import infra_security

SERVICE_AREA = "kempen-gml"  # intake's and capacity's default area (the demo's)
# PARTNER (partner-ocmw-geel) may POST /requests (intake's role table); STAFF (balie.els)
# reads matching's queue.
MUNICIPALITIES = (("13008", "2440"), ("13053", "2430"), ("13021", "2450"))
PLACES_PER_LOCATION, LOCATION_CAPACITY = 25, 40
SPARE_REQUESTS = 0.1  # more waiting requests than places at each location
CONCURRENCY = 16
STALL_SECONDS = 120.0  # no new arrival for this long: give up waiting, report the missing


# --- arithmetic -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolated between the closest ranks; NaN if empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Measurement:
    """`count` things done in `seconds`, each with its latency (seconds)."""

    what: str
    count: int
    seconds: float
    latencies: tuple[float, ...] = ()
    failures: int = 0

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 99) * 1000

    def row(self) -> list[object]:
        return [self.what, self.count, self.seconds, self.per_second, self.p50_ms,
                self.p99_ms, self.failures]


MEASUREMENT_HEADINGS = ("what", "n", "seconds", "per second", "p50 ms", "p99 ms", "failed")


@dataclass(frozen=True)
class Comparison:
    """Our figure against its ceiling, and the share of the ceiling we are asked to reach."""

    figure: str
    unit: str
    ours: Measurement
    ceiling: Measurement
    target: float

    @property
    def ratio(self) -> float:
        return self.ours.per_second / self.ceiling.per_second if self.ceiling.per_second else 0.0

    @property
    def met(self) -> bool:
        return self.ratio >= self.target

    def row(self) -> list[object]:
        return [self.figure, f"{self.ours.per_second:,.1f} {self.unit}",
                f"{self.ceiling.per_second:,.1f} {self.unit}", f"{self.ratio:.3f}",
                f">= {self.target:g}", self.met]


COMPARISON_HEADINGS = ("figure", "ours", "ceiling", "ratio", "target", "met")


# --- HTTP load ------------------------------------------------------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection: a POST, its status and body. Nothing more, so
    16 of them cost the machine far less than the servers they measure."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()
            self._reader = self._writer = None

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        if self._reader is None or self._writer is None:
            await self.open()
        assert self._reader is not None and self._writer is not None
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                + "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n")
        self._writer.write(head.encode() + body)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        answer = {name.strip().lower(): value.strip() for name, _, value in
                  (line.partition(":") for line in lines if line)}
        if answer.get("transfer-encoding", "").lower() == "chunked":
            content = await self._chunks()
        else:
            content = await self._reader.readexactly(int(answer.get("content-length", "0")))
        if answer.get("connection", "").lower() == "close":
            await self.close()
        return status, content

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        content = b""
        while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
            content += await self._reader.readexactly(size)
            await self._reader.readexactly(2)
        await self._reader.readuntil(b"\r\n")
        return content


async def post_all(
    base_url: str, path: str, bodies: Sequence[bytes], what: str,
    authorization: Callable[[], str] | None = None, concurrency: int = CONCURRENCY,
) -> Measurement:
    """POST every body, `concurrency` clients at a time (each its own connection, opened
    before the clock starts); latency per request, throughput over the whole run."""
    connections = [HttpConnection(base_url) for _ in range(concurrency)]
    await asyncio.gather(*(connection.open() for connection in connections))
    pending: Iterator[bytes] = iter(bodies)  # shared: each client takes the next body
    latencies: list[float] = []
    errors: list[str] = []

    async def client(connection: HttpConnection) -> None:
        for body in pending:
            headers = {"Authorization": authorization()} if authorization else {}
            started = time.perf_counter()
            status, content = await connection.post(path, body, headers)
            latencies.append(time.perf_counter() - started)
            if status not in (200, 201):
                errors.append(f"HTTP {status} {content[:200]!r}")

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client(connection) for connection in connections))
    finally:
        await asyncio.gather(*(connection.close() for connection in connections))
    seconds = time.perf_counter() - started
    if errors:
        print(f"  {what}: {len(errors)} failed, the first: {errors[0]}", flush=True)
    return Measurement(what, len(bodies) - len(errors), seconds, tuple(latencies), len(errors))


def bearer(system: RunningSystem, account: str) -> Callable[[], str]:
    """A fresh header each call: TokenSource renews the token before it expires."""
    return lambda: f"Bearer {system.tokens.token(account)}"


# --- Kafka: publish, then see the consequences ----------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """A message ready to send; `ident` is how its consequence is recognised."""

    ident: str
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    sender: str  # which producer sends it (an organiser may write only its own topic)


def durable_producer(bootstrap: str, signed_in: KafkaSecurity) -> AIOKafkaProducer:
    """acks=all and idempotence, as the services' producers."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                            **signed_in.aiokafka())


async def consumer_at_end(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    """A consumer of every partition of `topic`, positioned at its end before anything
    is published (no group: it reads, it commits nothing)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="latest", enable_auto_commit=False,
                                **infra_security().aiokafka())
    await consumer.start()
    for _ in range(100):
        if consumer.assignment():
            break
        await asyncio.sleep(0.1)
    for partition in consumer.assignment():
        await consumer.position(partition)  # resolves "latest" now, not after the burst
    return consumer


@dataclass
class Arrivals:
    """When each expected ident was sent and when its consequence was seen."""

    expected: set[str]
    sent: dict[str, float] = field(default_factory=dict)
    seen: dict[str, float] = field(default_factory=dict)

    def measurement(self, what: str) -> Measurement:
        if not self.seen:
            return Measurement(what, 0, 0.0, (), len(self.expected))
        seconds = max(self.seen.values()) - min(self.sent.values())
        latencies = tuple(self.seen[ident] - self.sent[ident] for ident in self.seen)
        return Measurement(what, len(self.seen), seconds, latencies,
                           len(self.expected) - len(self.seen))


async def _watch(consumer: AIOKafkaConsumer, arrivals: Arrivals,
                 ident_of: Callable[[ConsumerRecord[bytes, bytes]], str | None]) -> None:
    last_progress = time.perf_counter()
    while len(arrivals.seen) < len(arrivals.expected):
        batches = await consumer.getmany(timeout_ms=200)
        now = time.perf_counter()
        for records in batches.values():
            for record in records:
                ident = ident_of(record)
                if ident in arrivals.expected and ident not in arrivals.seen:
                    arrivals.seen[ident] = now
                    last_progress = now
        if now - last_progress > STALL_SECONDS:
            return


async def publish_and_collect(
    bootstrap: str, producers: Mapping[str, AIOKafkaProducer], messages: Sequence[Outgoing],
    watched_topic: str, ident_of: Callable[[ConsumerRecord[bytes, bytes]], str | None],
) -> Arrivals:
    """Send every message as fast as the producers take them (no wait per message), while
    watching `watched_topic` for each one's consequence."""
    arrivals = Arrivals({message.ident for message in messages})
    consumer = await consumer_at_end(bootstrap, watched_topic)
    watcher = asyncio.create_task(_watch(consumer, arrivals, ident_of))
    try:
        acks = []
        for message in messages:
            arrivals.sent[message.ident] = time.perf_counter()
            acks.append(await producers[message.sender].send(
                message.topic, message.value, key=message.key, headers=message.headers))
        await asyncio.gather(*acks)
        await watcher
    finally:
        watcher.cancel()
        await consumer.stop()
    return arrivals


def header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    return next((value.decode() for key, value in record.headers if key == name), None)


# --- seeding through the public APIs --------------------------------------------------------


START = date.today() + timedelta(days=120)


def organiser_of(location_number: int) -> str:
    """The demo organisers take turns running the benchmark's locations."""
    return DEMO_ORGANISERS[location_number % len(DEMO_ORGANISERS)]


def location_body(location_id: str, number: int, organiser_id: str) -> dict[str, Any]:
    nis, postcode = MUNICIPALITIES[number % len(MUNICIPALITIES)]
    return {"location_id": location_id, "name": f"Kinderdagverblijf bench {number}",
            "municipality_nis": nis, "postcode": postcode, "capacity": LOCATION_CAPACITY,
            "subsidy_tier": "income_related", "organiser_id": organiser_id,
            "organiser_email": f"opvang.{location_id}@kinderopvang.example.be"}


def request_body(location_id: str, serial: int) -> bytes:
    """A family's request for one location, each child its own national number."""
    nis, postcode = MUNICIPALITIES[serial % len(MUNICIPALITIES)]
    birth = START - timedelta(days=150 + serial % 120)
    return json.dumps({
        "child": {"first_name": "Mila", "last_name": f"Bench{serial}",
                  "birth_date": birth.isoformat(),
                  "national_number": f"{serial:011d}"},  # distinct: one child, one request
        "parent": {"name": f"Ouder Bench{serial}", "email": f"gezin{serial}@example.be",
                   "phone": "+32 470 12 34 56", "street": "Markt 1", "postcode": postcode},
        "municipality_nis": nis,
        "desired_start_date": START.isoformat(),
        "day_parts": list(FULL_WEEK[:6]),  # Monday to Wednesday: a full-week place fits
        "share_contact_with_organiser": True,
        "preferred_location_ids": [location_id],
        "priority": {"parents_working_or_training": True},
        "sworn_statement": True,
    }).encode()


async def register_locations(system: RunningSystem, location_ids: Sequence[str]) -> None:
    """Each organiser's own system registers its locations (the organisers take turns);
    then wait until intake, which families choose from, knows them all."""
    async with httpx.AsyncClient(timeout=30) as http:
        for number, location_id in enumerate(location_ids):
            organiser = organiser_of(number)
            token = system.tokens.token(organiser_account(organiser))
            response = await http.post(f"{system.url('capacity')}/locations",
                                       json=location_body(location_id, number, organiser),
                                       headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
        wanted = set(location_ids)
        for _ in range(600):
            known = {row["location_id"] for row in
                     (await http.get(f"{system.url('intake')}/locations")).json()}
            if wanted <= known:
                return
            await asyncio.sleep(0.1)
    raise TimeoutError("intake did not learn the benchmark's locations from capacity")


async def matching_requests(system: RunningSystem) -> int:
    """How many requests matching knows in the area (any status): its public queue."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(
            f"{system.url('matching')}/service-areas/{SERVICE_AREA}/queue",
            headers={"Authorization": bearer(system, STAFF)()})
        response.raise_for_status()
        return sum(int(count) for count in response.json()["requests"].values())


async def wait_until_matching_knows(system: RunningSystem, at_least: int,
                                    seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while (known := await matching_requests(system)) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError(f"matching knows {known} requests, expected {at_least}")
        await asyncio.sleep(0.5)


def _gauges(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and line[len(name)] in " {")


async def settle(system: RunningSystem, quiet_seconds: float = 12.0,
                 at_most: float = 300.0) -> None:
    """Wait until the system is idle by its own metrics: no outbox backlog, no consumer
    lag, no mail waiting, for longer than a lag refresh (10 s), so the next figure does
    not pay for the last one's tail."""
    deadline = time.monotonic() + at_most
    quiet_since = time.monotonic()
    async with httpx.AsyncClient(timeout=10) as http:
        while time.monotonic() - quiet_since < quiet_seconds:
            if time.monotonic() > deadline:
                print(f"  (the system was still busy after {at_most:.0f} s; going on)")
                return
            busy = 0.0
            for name in system.services:
                text = (await http.get(f"{system.url(name)}/metrics")).text
                busy += sum(_gauges(text, gauge) for gauge in (
                    "loket_outbox_backlog", "loket_consumer_lag", "loket_notices_pending"))
            if busy:
                quiet_since = time.monotonic()
            await asyncio.sleep(1.0)


# --- figure 1: intake POST /requests ----------------------------------------------------------


INTAKE_LOCATION = "bench-intake-01"


async def prepare_intake(system: RunningSystem) -> None:
    await register_locations(system, [INTAKE_LOCATION])
    await settle(system)


async def intake_requests(system: RunningSystem, count: int, warm_up: int) -> Measurement:
    """Requests registered by a partner system, 16 at a time; then wait until matching
    has them all and the system is idle again (the next figure starts from quiet)."""
    before = await matching_requests(system)
    serial = 1_000_000 + before  # distinct families whatever ran before
    bodies = [request_body(INTAKE_LOCATION, serial + n) for n in range(warm_up + count)]
    authorization = bearer(system, PARTNER)
    await post_all(system.url("intake"), "/requests", bodies[:warm_up], "intake warm-up",
                   authorization)
    watch = CpuWatch(system.pids())
    watch.start()
    measured = await post_all(system.url("intake"), "/requests", bodies[warm_up:],
                              "intake POST /requests", authorization)
    print("  " + cpu_line(watch.stop(), count, "request"), flush=True)
    await wait_until_matching_knows(system, before + warm_up + count)
    await settle(system)
    return measured


# --- figure 2: PlaceFreed -> MatchProposed --------------------------------------------------


def place_freed(topic_prefix: str, location_id: str, number: int, place_number: int
                ) -> Outgoing:
    """A free place as the organiser's own system announces it: a versioned event in a
    CloudEvents envelope (binary mode), on the organiser's own inbound topic."""
    organiser = organiser_of(number)
    nis, _ = MUNICIPALITIES[number % len(MUNICIPALITIES)]
    data = PlaceFreed(service_area=SERVICE_AREA, place_id=f"bench-place-{place_number:06d}",
                      location_id=location_id, municipality_nis=nis, available_from=START,
                      day_parts=list(FULL_WEEK), min_age_months=0, max_age_months=36,
                      freed_at=datetime.now(UTC))
    key, value, headers = to_kafka(new_event(data, source=f"urn:organiser:{organiser}"))
    return Outgoing(data.place_id, organiser_inbound_topic(organiser, topic_prefix), key,
                    value, headers, organiser)


@dataclass(frozen=True)
class PlacesPlan:
    """Which location each place is freed at (round robin), and how many families wait
    for each location: a few more than its places, so every place gets a proposal."""

    places: int
    locations: int

    @classmethod
    def for_places(cls, places: int) -> PlacesPlan:
        return cls(places, max(1, math.ceil(places / PLACES_PER_LOCATION)))

    def location_id(self, number: int) -> str:
        return f"bench-loc-{number:03d}"

    def location_of_place(self, place_number: int) -> int:
        return place_number % self.locations

    def requests_at(self, number: int) -> int:
        places_here = sum(1 for p in range(self.places) if self.location_of_place(p) == number)
        return math.ceil(places_here * (1 + SPARE_REQUESTS)) + 1


async def seed_places(system: RunningSystem, plan: PlacesPlan) -> int:
    """Locations (capacity HTTP) and waiting requests (intake HTTP, 16 clients) until
    matching knows them; returns the number of requests."""
    location_ids = [plan.location_id(n) for n in range(plan.locations)]
    await register_locations(system, location_ids)
    before = await matching_requests(system)
    bodies = [request_body(location_ids[n], 2_000_000 + before + len(location_ids) * k + n)
              for n in range(plan.locations) for k in range(plan.requests_at(n))]
    seeded = await post_all(system.url("intake"), "/requests", bodies,
                            "seed: waiting requests", bearer(system, PARTNER))
    await wait_until_matching_knows(system, before + seeded.count)
    await settle(system)
    return seeded.count


def proposal_of(record: ConsumerRecord[bytes, bytes]) -> str | None:
    """The place a MatchProposed offers (read through the contract's envelope)."""
    if header(record, "ce_type") != MatchProposed.event_type():
        return None
    event = from_kafka(record.value, record.headers)
    return str(event.data["place_id"])


async def places_to_proposals(system: RunningSystem, places: int, warm_up: int
                              ) -> Measurement:
    """Seed, free `warm_up` places and wait for their proposals, then free `places` as
    fast as the organisers' producers can and wait for every MatchProposed."""
    plan = PlacesPlan.for_places(warm_up + places)
    requests = await seed_places(system, plan)
    print(f"  seeded {plan.locations} locations and {requests} waiting requests", flush=True)
    outgoing = [place_freed(system.topic_prefix, plan.location_id(number), number, place_number)
                for place_number in range(plan.places)
                for number in [plan.location_of_place(place_number)]]
    bootstrap = system.infra.bootstrap_servers
    producers = {organiser: durable_producer(bootstrap, security(organiser))
                 for organiser in DEMO_ORGANISERS}
    matches = f"{system.topic_prefix}{MATCHES.name}"
    await asyncio.gather(*(producer.start() for producer in producers.values()))
    try:
        warmed = await publish_and_collect(bootstrap, producers, outgoing[:warm_up], matches,
                                           proposal_of)
        if len(warmed.seen) < warm_up:
            print(f"  warm-up: only {len(warmed.seen)} of {warm_up} places were proposed")
        await settle(system)
        watch = CpuWatch(system.pids())
        watch.start()
        arrivals = await publish_and_collect(bootstrap, producers, outgoing[warm_up:],
                                             matches, proposal_of)
        print("  " + cpu_line(watch.stop(), places, "place"), flush=True)
    finally:
        await asyncio.gather(*(producer.stop() for producer in producers.values()))
    return arrivals.measurement("PlaceFreed -> MatchProposed")
