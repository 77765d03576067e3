"""Killing a service (SIGKILL) in the middle of a burst neither loses nor doubles a
proposal: not matching while it works through freed places, and not capacity while it
works through an organiser's announcements.

Each kill lands while the places keep coming (a feeder goes on freeing or announcing
them during the kill and the downtime), after the first proposals, at a moment
PostgreSQL shows the service inside a batch's transaction: the service dies with work
in flight (read but not applied, applied but its offsets not committed, committed but
its events not relayed). After the restart every place is proposed exactly once.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import httpx

from contracts.events import MatchProposed, PlaceFreed
from contracts.topics import CAPACITY, MATCHES
from tests.e2e.support import (
    announce_places,
    assert_each_place_proposed_once,
    ensure_running,
    free_places,
    kill_mid_transaction,
    proposals_of,
    register_location,
    submit_request,
    topic,
)
from tests.kafka_helpers import Record, collect
from tools.infra import Infra
from tools.processes import ServiceProcess

System = dict[str, ServiceProcess]
# Matching: 60 places, freed over HTTP in bursts of 10 (one transaction and one outbox
# burst each), so matching reads them in batches.
MATCHING_BURSTS, MATCHING_BURST = 6, 10
# Capacity: 40 places, announced on the organiser's own inbound topic, 4 at a time with a
# short pause, so the announcements keep coming while capacity works and while it is down.
CAPACITY_GROUPS, CAPACITY_GROUP = 10, 4
GROUP_PAUSE_SECONDS = 0.25
# Tables only a consumer's transaction touches (not the relay's, not the jobs').
MATCHING_TABLES = ("processed_events", "places")
CAPACITY_TABLES = ("processed_events", "free_places")


def of_type(event_type: str, location_id: str) -> Callable[[Record], bool]:
    return lambda r: r.headers.get("ce_type") == event_type and (
        getattr(r.data(), "location_id", None) == location_id)


async def first_proposal(infra: Infra, location_id: str) -> None:
    """Waits until matching proposed a first place at the location: the burst is being
    worked through."""
    await collect(infra.bootstrap_servers, topic(MATCHES),
                  of_type(MatchProposed.event_type(), location_id),
                  until=lambda found: len(found) >= 1, wait_seconds=90)


async def free_in_bursts(http: httpx.Client, system: System, location_id: str,
                         freed: list[str]) -> None:
    for _ in range(MATCHING_BURSTS):
        freed += await asyncio.to_thread(free_places, http, system, location_id,
                                         MATCHING_BURST)


async def announce_in_groups(infra: Infra, location_id: str, announced: list[str]) -> None:
    for _ in range(CAPACITY_GROUPS):
        announced += await announce_places(infra.bootstrap_servers, location_id,
                                           CAPACITY_GROUP)
        await asyncio.sleep(GROUP_PAUSE_SECONDS)


def report_kill(service: str, mid_batch: bool, killed_at: datetime, freed_then: int,
                proposals: dict[str, MatchProposed]) -> None:
    """Where the kill landed (for the log of a run, never asserted: it is timing)."""
    before = sum(1 for p in proposals.values() if p.proposed_at <= killed_at)
    print(f"{service} killed {'inside' if mid_batch else 'outside'} a batch's transaction, "
          f"with {freed_then}/{len(proposals)} places freed and {before} proposed")


async def kill_while_fed(system: System, infra: Infra, name: str, tables: tuple[str, ...],
                         location_id: str, feed: Callable[[list[str]], Coroutine[Any, Any, None]],
                         places: int, request_ids: set[str]) -> list[str]:
    """SIGKILL the service while `feed` gives it places (inside a batch's transaction),
    start it again, and check that every place was proposed once, to every request once.
    Returns the ids of the places fed."""
    service = system[name]
    place_ids: list[str] = []
    feeding = asyncio.create_task(feed(place_ids))
    try:
        await first_proposal(infra, location_id)
        mid_batch = await kill_mid_transaction(service, infra, tables)
        killed_at, fed_then = datetime.now(UTC), len(place_ids)
        await feeding  # the rest arrive while the service is down
        await asyncio.sleep(1)
        service.start()
        await asyncio.to_thread(service.wait_ready)
    finally:
        if not feeding.done():
            await feeding
        ensure_running(service)

    proposals = await proposals_of(infra.bootstrap_servers, {location_id}, set(place_ids))
    report_kill(name, mid_batch, killed_at, fed_then, proposals)
    assert len(place_ids) == places
    assert_each_place_proposed_once(proposals, set(place_ids), request_ids)
    assert {p.request_id for p in proposals.values()} == request_ids, "every request once"
    return place_ids


async def test_killing_matching_neither_loses_nor_doubles_a_proposal(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    places = MATCHING_BURSTS * MATCHING_BURST
    location_id = register_location(http, system, capacity=places)
    request_ids = {submit_request(http, system, [location_id]) for _ in range(places)}
    await kill_while_fed(system, e2e_infra, "matching", MATCHING_TABLES, location_id,
                         lambda freed: free_in_bursts(http, system, location_id, freed),
                         places, request_ids)


async def test_killing_capacity_mid_burst_of_announcements_neither_loses_nor_doubles_a_proposal(
    system: System, http: httpx.Client, e2e_infra: Infra
) -> None:
    places = CAPACITY_GROUPS * CAPACITY_GROUP
    location_id = register_location(http, system, capacity=places)  # org-zonneke's
    request_ids = {submit_request(http, system, [location_id]) for _ in range(places)}
    place_ids = await kill_while_fed(
        system, e2e_infra, "capacity", CAPACITY_TABLES, location_id,
        lambda announced: announce_in_groups(e2e_infra, location_id, announced),
        places, request_ids)

    # Capacity accepted each announcement once: it republished each place as its own
    # PlaceFreed once (a relay repeat keeps the event id; a second acceptance would not).
    republished = await collect(
        e2e_infra.bootstrap_servers, topic(CAPACITY),
        of_type(PlaceFreed.event_type(), location_id),
        until=lambda found: len({getattr(r.data(), "place_id", None) for r in found})
        >= places, wait_seconds=60, settle=2.0)
    ids_per_place: dict[str, set[str]] = defaultdict(set)
    for record in republished:
        ids_per_place[getattr(record.data(), "place_id", "")].add(record.event().id)
    assert set(ids_per_place) == set(place_ids)
    twice = {place: ids for place, ids in ids_per_place.items() if len(ids) > 1}
    assert not twice, f"capacity accepted an announcement more than once: {twice}"
