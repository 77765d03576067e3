"""Two matching instances in one consumer group, and the group rebalanced in the middle
of a burst of free places across several service areas: a second instance joins while
the places keep coming, the first is killed (SIGKILL) and comes back, and still every
place is proposed exactly once and no request twice.

The loket under test serves one area (kempen-gml), but matching serves every area on
the topics: other lokets' intake and capacity publish there too. This test plays those
other lokets: it publishes their locations, requests and places straight to the topics
(as the admin, "any outside system"), in one area per partition, so each instance of
matching gets work of its own. That the two instances really shared the partitions is
read from the broker (the group's members and their assignments) and from each
instance's /metrics (events it applied itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.partitioner import DefaultPartitioner
from prometheus_client.parser import text_string_to_metric_families

from contracts import CloudEvent, new_event, to_kafka
from contracts.events import LocationRegistered, MatchProposed, RequestSubmitted
from contracts.events.requests import PriorityFacts
from contracts.topics import CAPACITY, MATCHES, REQUESTS
from tests.conftest import free_port
from tests.e2e.support import (
    MON_TO_WED,
    START,
    TOPIC_PREFIX,
    announced_place,
    assert_each_place_proposed_once,
    ensure_running,
    proposals_of,
    publish_events,
    topic,
)
from tests.kafka_helpers import Record, collect, partition_ids
from tools.infra import Infra
from tools.infra.kafka_principals import ADMIN_SECURITY
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]
GROUP = f"{TOPIC_PREFIX}loket-matching"  # ServiceSettings.consumer_group
NIS = "11002"  # another loket's municipality: kempen-gml's figures stay as they are
REQUESTS_PER_AREA = 100  # the feed stops there: never more places in an area than requests
SPARE_ROUNDS = 10  # rounds the steps below publish themselves, whatever the burst did
ROUND_PAUSE_SECONDS = 1.5  # one place per area per round, through every step of the test
WAIT = 180.0  # generous: a rebalance after a kill waits for the session to time out


# ---- other lokets' areas and their events ------------------------------------------------


def areas_on_every_partition(partitions: int) -> list[str]:
    """Service areas of this run whose keys land on each partition once (the producer's
    own partitioner), so both instances get some of them whatever the assignment."""
    run = uuid.uuid4().hex[:6]
    every = list(range(partitions))
    by_partition: dict[int, str] = {}
    number = 0
    while len(by_partition) < partitions:
        area = f"rb-{run}-{number}"
        by_partition.setdefault(DefaultPartitioner()(area.encode(), every, every), area)
        number += 1
    return [by_partition[p] for p in every]


def location_of(area: str) -> str:
    return f"loc-{area}"


def registered(area: str) -> CloudEvent:
    return new_event(LocationRegistered(
        service_area=area, location_id=location_of(area), name=f"KDV {area}",
        municipality_nis=NIS, postcode="2000", capacity=500, subsidy_tier="income_related",
        registered_at=datetime.now(UTC)), source=f"/e2e/{area}/capacity")


def submitted(area: str) -> CloudEvent:
    return new_event(RequestSubmitted(
        service_area=area, request_id=f"req-{uuid.uuid4().hex[:12]}",
        child_ref=uuid.uuid4().hex, municipality_nis=NIS,
        birth_month=(START - timedelta(days=200)).strftime("%Y-%m"),
        desired_start_date=START, day_parts=list(MON_TO_WED),
        preferred_location_ids=[location_of(area)],
        priority=PriorityFacts(parents_working_or_training=True),
        submitted_at=datetime.now(UTC)), source=f"/e2e/{area}/intake")


def freed(area: str) -> CloudEvent:
    place = announced_place(location_of(area), f"place-{uuid.uuid4().hex[:12]}", area, NIS)
    return new_event(place, source=f"/e2e/{area}/capacity")


@dataclass
class Feed:
    """Frees one place per area per round: every ROUND_PAUSE_SECONDS until stopped (the
    burst), and at once when a step of the test asks for one; never more rounds than
    each area has requests."""

    bootstrap: str
    areas: list[str]
    place_ids: set[str] = field(default_factory=set)
    rounds: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Feed:
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                          **ADMIN_SECURITY.aiokafka())
        await self._producer.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def round(self) -> None:
        """One place per area, one per partition, acknowledged by the broker."""
        assert self._producer is not None
        async with self._lock:
            if self.rounds >= REQUESTS_PER_AREA:
                raise AssertionError("out of requests: raise REQUESTS_PER_AREA")
            sent = []
            for area in self.areas:
                event = freed(area)
                key, value, headers = to_kafka(event)
                sent.append(await self._producer.send(topic(CAPACITY), value, key=key,
                                                      headers=list(headers)))
                self.place_ids.add(str(event.data["place_id"]))
            await asyncio.gather(*sent)
            self.rounds += 1

    async def run(self) -> None:
        """The burst: a round every ROUND_PAUSE_SECONDS, keeping SPARE_ROUNDS back for the
        steps that ask for one."""
        while not self._stop.is_set() and self.rounds < REQUESTS_PER_AREA - SPARE_ROUNDS:
            await self.round()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), ROUND_PAUSE_SECONDS)

    def stop(self) -> None:
        self._stop.set()


# ---- watching the group and the instances ------------------------------------------------


async def assignments(bootstrap: str) -> list[set[tuple[str, int]]]:
    """The partitions the broker assigned to each member of matching's group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **ADMIN_SECURITY.aiokafka())
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([GROUP])
    finally:
        await admin.close()
    [group] = response.to_object()["groups"]
    if group["state"] != "Stable":
        return []  # rebalancing: assignments are being handed out
    members = []
    for member in group["members"]:
        raw = member["member_assignment"]
        decoded = ConsumerProtocolMemberAssignment.decode(raw) if raw else None
        members.append({(name, partition) for name, partitions in
                        (decoded.assignment if decoded else []) for partition in partitions})
    return members


async def applied(service: ServiceProcess) -> float:
    """Events this instance applied itself since it started (its own /metrics)."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{service.url}/metrics")).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               if family.name == "loket_events_applied" for sample in family.samples
               if sample.name == "loket_events_applied_total"
               and sample.labels.get("service") == "matching")


async def until(probe: Callable[[], Awaitable[bool]], what: str, seconds: float = WAIT
                ) -> None:
    """Waits (without blocking the feed) until `probe()` holds."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not reached within {seconds:.0f}s: {what}")
        await asyncio.sleep(0.5)


@pytest.fixture
async def second_matching(system: System) -> AsyncIterator[ServiceProcess]:
    """Another matching process: the same settings (database, consumer group, principal)
    on a port of its own. Stopped afterwards; the session's matching is left running."""
    first = system["matching"]
    port = free_port()
    second = ServiceProcess("matching", port, first.env | {"MATCHING_PORT": str(port)},
                            first.log_path.with_name("matching-2.log"))
    yield second
    await asyncio.to_thread(second.stop)
    await asyncio.to_thread(ensure_running, first)


async def test_a_rebalance_mid_burst_neither_loses_nor_doubles_a_proposal(
    system: System, second_matching: ServiceProcess, e2e_infra: Infra
) -> None:
    bootstrap = e2e_infra.bootstrap_servers
    first, second = system["matching"], second_matching
    partitions = await partition_ids(bootstrap, topic(CAPACITY))
    assert partitions == await partition_ids(bootstrap, topic(REQUESTS))
    areas = areas_on_every_partition(len(partitions))
    requests = [submitted(area) for area in areas for _ in range(REQUESTS_PER_AREA)]
    await publish_events(bootstrap, [(topic(CAPACITY), registered(area)) for area in areas]
                         + [(topic(REQUESTS), event) for event in requests])
    locations = {location_of(area) for area in areas}
    request_ids = {str(event.data["request_id"]) for event in requests}

    async with Feed(bootstrap, areas) as feed:
        feeding = asyncio.create_task(feed.run())
        try:
            await collect(bootstrap, topic(MATCHES), proposed_at(locations),
                          until=lambda found: len(found) >= 1, wait_seconds=WAIT)

            # A second instance joins mid-burst: the group rebalances, places keep coming.
            second.start()
            await asyncio.to_thread(second.wait_ready)
            await until(lambda: shared(bootstrap), "two members, each with partitions")
            await feed.round()
            await until(lambda: busier(second, 0.0), "the second instance applies events")
            first_before, second_before = await applied(first), await applied(second)
            await feed.round()
            await until(lambda: both_busier(first, first_before, second, second_before),
                        "both instances apply events of the burst, side by side")
            rounds_at_kill = feed.rounds

            # The first instance dies mid-burst: once its session timed out, the second
            # takes every partition; then the first comes back and the group rebalances.
            first.kill()
            await until(lambda: alone(bootstrap, 2 * len(partitions)),
                        "the second instance takes every partition over")
            second_alone = await applied(second)
            await feed.round()
            await until(lambda: busier(second, second_alone), "the second goes on alone")
            first.start()
            await asyncio.to_thread(first.wait_ready)
            await until(lambda: shared(bootstrap), "the first instance is back in the group")
            await feed.round()
        finally:
            feed.stop()
            await feeding

    print(f"rebalance: {len(areas)} areas, {feed.rounds} rounds, {len(feed.place_ids)} "
          f"places; {rounds_at_kill} rounds before the kill")
    assert feed.rounds > rounds_at_kill, "places kept coming after the kill"
    proposals = await proposals_of(bootstrap, locations, feed.place_ids, wait_seconds=WAIT)
    assert_each_place_proposed_once(proposals, feed.place_ids, request_ids)
    assert {p.service_area for p in proposals.values()} == set(areas)


def proposed_at(locations: set[str]) -> Callable[[Record], bool]:
    proposed = MatchProposed.event_type()
    return lambda r: r.headers.get("ce_type") == proposed and (
        getattr(r.data(), "location_id", None) in locations)


async def shared(bootstrap: str) -> bool:
    members = await assignments(bootstrap)
    return len(members) == 2 and all(members)


async def alone(bootstrap: str, partitions: int) -> bool:
    members = await assignments(bootstrap)
    return len(members) == 1 and len(members[0]) == partitions


async def busier(service: ServiceProcess, before: float) -> bool:
    return await applied(service) > before


async def both_busier(first: ServiceProcess, first_before: float, second: ServiceProcess,
                      second_before: float) -> bool:
    return await busier(first, first_before) and await busier(second, second_before)
