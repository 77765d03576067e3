"""Killing matching mid-stream neither loses nor doubles a proposal."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from contracts.events import MatchProposed
from contracts.topics import MATCHES
from tests.e2e.support import free_places, register_location, submit_request, topic
from tests.kafka_helpers import collect
from tools.infra import Infra
from tools.processes import ServiceProcess

REQUESTS = 30


async def test_killing_matching_neither_loses_nor_doubles_a_proposal(
    system: dict[str, ServiceProcess], http: httpx.Client, e2e_infra: Infra
) -> None:
    location_id = register_location(http, system)
    request_ids = {submit_request(http, system, [location_id]) for _ in range(REQUESTS)}
    mine = lambda r: r.headers.get("ce_type") == MatchProposed.event_type() and (  # noqa: E731
        getattr(r.data(), "location_id", None) == location_id)

    place_ids = free_places(http, system, location_id, count=REQUESTS // 2)
    await collect(e2e_infra.bootstrap_servers, topic(MATCHES), mine,
                  until=lambda found: len(found) >= 1)
    system["matching"].kill()  # SIGKILL while it works through the places
    place_ids += free_places(http, system, location_id, count=REQUESTS - len(place_ids))
    await asyncio.sleep(1)
    system["matching"].start()
    system["matching"].wait_ready()

    records = await collect(
        e2e_infra.bootstrap_servers, topic(MATCHES), mine,
        until=lambda found: len({r.data().place_id for r in found}) >= REQUESTS,  # type: ignore[attr-defined]
        wait_seconds=90, settle=3.0,
    )
    # A relay crash may repeat a message (same event id); consumers drop such repeats.
    proposals = {r.event().id: r.data() for r in records}
    assert all(isinstance(p, MatchProposed) for p in proposals.values())
    per_place = Counter(p.place_id for p in proposals.values())  # type: ignore[attr-defined]
    per_request = Counter(p.request_id for p in proposals.values())  # type: ignore[attr-defined]
    assert set(per_place) == set(place_ids), "every free place was proposed"
    assert max(per_place.values()) == 1, "no place was proposed twice"
    assert set(per_request) == request_ids and max(per_request.values()) == 1
