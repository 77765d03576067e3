"""Matching's HTTP API, through the real app over fakes."""

from __future__ import annotations

from tests.unit.matching.harness import Matching, freed, submitted


async def test_the_queue_counts_requests_and_places_per_status_in_one_area(
    matching: Matching,
) -> None:
    await matching.feed(
        submitted("r1"), submitted("r2", minutes=1), submitted("r3", locations=("loc-b",)),
        freed("p1"), freed("p2", location_id="loc-c"),
        submitted("elsewhere", locations=("loc-z",), area="antwerpen"),
        freed("p-elsewhere", location_id="loc-z", area="antwerpen"),
    )
    async with matching.client() as client:
        response = await client.get("/service-areas/kempen-gml/queue")
    assert response.status_code == 200
    assert response.json() == {
        "service_area": "kempen-gml",
        "requests": {"proposed": 1, "waiting": 2},
        "places": {"proposed": 1, "open": 1},
    }


async def test_an_area_without_requests_or_places_has_an_empty_queue(matching: Matching) -> None:
    async with matching.client() as client:
        response = await client.get("/service-areas/kempen-gml/queue")
    assert response.status_code == 200
    assert response.json() == {"service_area": "kempen-gml", "requests": {}, "places": {}}
