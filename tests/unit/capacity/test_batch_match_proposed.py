"""A burst of MatchProposed applied together (`on_matches_proposed`) has the effect of
`on_match_proposed` on each in turn: the same offers stored, the same notices (ids and
times in the same order), nothing published; with new proposals, a repeated match id,
a proposal read before, and offers whose answer was read before their proposal."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from contracts import new_event, to_kafka
from contracts.events import MatchDeclined, MatchProposed
from loketkit.consumer import Delivered, Incoming, Origin
from loketkit.testing import RecordingDeadLetters
from services.capacity.bootstrap import bootstrap
from services.capacity.domain.model import Location, OfferStatus
from services.capacity.handlers import (
    EVENT_BATCH_HANDLERS,
    on_match_accepted,
    on_match_declined,
    on_match_proposed,
    on_matches_proposed,
)
from services.capacity.settings import CapacitySettings
from tests.unit.capacity.conftest import NOW, CountingIds, acceptance, proposal
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

MATCHING = "/loket/matching"
_offsets = itertools.count()


class Ticking:
    """A clock that moves on at each reading: a different number of readings shows."""

    def __init__(self) -> None:
        self._seconds = itertools.count()

    def __call__(self) -> datetime:
        return NOW + timedelta(seconds=next(self._seconds))


def proposed(match_id: str, location_id: str = "loc-a", **changes: Any) -> MatchProposed:
    return proposal(match_id=match_id, place_id=f"place-{match_id}",
                    request_id=f"req-{match_id}", location_id=location_id, **changes)


async def fresh_database() -> FakeCapacityUnitOfWork:
    """loc-a with an organiser address, loc-b without; answers read before their
    proposals (accepted at both, declined at loc-a) and one proposal read before."""
    uow = FakeCapacityUnitOfWork()
    for location_id, email in (("loc-a", "opvang@a.example"), ("loc-b", None)):
        uow.locations.locations[location_id] = Location(
            location_id=location_id, service_area="kempen-gml", name=f"Opvang {location_id}",
            municipality_nis="13008", postcode="2440", capacity=5, subsidy_tier="plus",
            organiser_email=email,
        )
    clock, ids = Ticking(), CountingIds()
    async with uow:
        await on_match_proposed(new_event(proposed("m-old"), source=MATCHING),
                                proposed("m-old"), uow, clock, ids)
        for match_id, location_id, keep_waiting in (
                ("m-acc", "loc-a", True), ("m-acc-2", "loc-a", False),
                ("m-acc-b", "loc-b", False)):
            answer = acceptance(proposed(match_id, location_id), keep_waiting=keep_waiting)
            await on_match_accepted(new_event(answer, source="/loket/intake"), answer, uow,
                                    clock, ids)
        declined = decline(proposed("m-dec"))
        await on_match_declined(new_event(declined, source="/loket/intake"), declined, uow)
        await uow.commit()
    assert uow.notices.rows == []  # nothing to tell before the proposal is read
    return uow


def decline(offer: MatchProposed) -> MatchDeclined:
    return MatchDeclined(
        service_area=offer.service_area, match_id=offer.match_id, request_id=offer.request_id,
        place_id=offer.place_id, location_id=offer.location_id, municipality_nis="13008",
        declined_at=NOW,
    )


def burst(*proposals: MatchProposed) -> list[Delivered[MatchProposed]]:
    return [Delivered(new_event(data, source=MATCHING), data,
                      Origin("loket.matches.v1", 0, next(_offsets), None))
            for data in proposals]


# New proposals, a repeated match id (the second changes nothing), a proposal read
# before, proposals after an acceptance (two notify, one location has no address, one
# repeated) and after a decline.
RUN = (proposed("m-1"), proposed("m-acc"), proposed("m-2", "loc-b"),
       proposed("m-1", start_date=NOW.date() + timedelta(days=60)), proposed("m-dec"),
       proposed("m-old"), proposed("m-acc-b", "loc-b"), proposed("m-acc"),
       proposed("m-acc-2"), proposed("m-3"))


async def one_by_one(uow: FakeCapacityUnitOfWork, run: list[Delivered[MatchProposed]]) -> None:
    clock, ids = Ticking(), CountingIds()
    for each in run:
        async with uow:
            await on_match_proposed(each.event, each.data, uow, clock, ids)
            await uow.commit()


async def together(uow: FakeCapacityUnitOfWork, run: list[Delivered[MatchProposed]]) -> None:
    async with uow:
        await on_matches_proposed(run, uow, Ticking(), CountingIds())
        await uow.commit()


def effect(uow: FakeCapacityUnitOfWork) -> dict[str, object]:
    return {"offers": uow.offers.offers, "published": uow.published,
            "notices": uow.notices.rows}


async def test_a_run_has_the_effect_of_its_events_one_by_one() -> None:
    run = burst(*RUN)
    sequential, batched = await fresh_database(), await fresh_database()
    await one_by_one(sequential, run)
    await together(batched, run)
    assert effect(batched) == effect(sequential)

    offers = batched.offers.offers
    assert offers["m-1"].start_date == RUN[0].start_date  # the first proposal stays
    assert (offers["m-acc"].status, offers["m-acc"].keep_waiting_for_higher_choices) == (
        OfferStatus.ACCEPTED, True)
    assert offers["m-acc"].start_date == RUN[1].start_date
    assert (offers["m-dec"].status, offers["m-dec"].ended_reason) == (
        OfferStatus.ENDED, "declined")
    assert offers["m-dec"].proposed
    assert all(offer.proposed for offer in offers.values())
    assert [(n.kind, n.recipient, n.notice_id, n.created_at) for n in batched.notices.rows] == [
        ("offer_accepted", "opvang@a.example", "notice-1", NOW),
        ("offer_accepted", "opvang@a.example", "notice-2", NOW + timedelta(seconds=2)),
    ]  # m-acc, then m-acc-2 (m-acc-b's location gave no address, but read the clock)
    assert "m-acc" in batched.notices.rows[0].body
    assert batched.published == []


async def test_the_consumer_applies_a_burst_with_one_read_and_one_write(
        monkeypatch: pytest.MonkeyPatch) -> None:
    uow = await fresh_database()
    calls: list[str] = []
    for name in ("get", "save", "get_many", "save_all"):
        monkeypatch.setattr(uow.offers, name, recording(calls, name, getattr(uow.offers, name)))
    app = bootstrap(CapacitySettings(handler_backoff_seconds=0), uow_factory=lambda: uow,
                    dead_letters=RecordingDeadLetters(), clock=lambda: NOW,
                    id_factory=CountingIds())
    messages = []
    for each in burst(*RUN):
        _, value, headers = to_kafka(each.event)
        messages.append(Incoming(value, headers, each.origin))
    assert await app.state.consumer.consume_batch(messages) == ["applied"] * len(RUN)
    assert calls == ["get_many", "save_all"]
    assert len(uow.notices.rows) == 2


def recording(calls: list[str], name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    async def recorded(*args: Any) -> Any:
        calls.append(name)
        return await method(*args)
    return recorded


def test_match_proposed_has_a_batch_handler() -> None:
    assert EVENT_BATCH_HANDLERS[MatchProposed] is on_matches_proposed
