"""Organisers' events on their own inbound topic loket.capacity.inbound.v1.<organiser>
(PlaceFreed, PlaceWithdrawn, CapacityDeclared, EnrolmentsDeclared, EnrolmentEnded),
through the real app's consumer (inbox, dead letters) into the handler, in memory.
Only the location's own organiser's topic may announce for it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from contracts import CloudEvent, EventData, new_event, to_kafka
from contracts.events import (
    CapacityDeclared,
    DeclaredEnrolment,
    EnrolmentEnded,
    EnrolmentsDeclared,
    PlaceFreed,
    PlaceFreedV1,
    PlaceWithdrawn,
)
from contracts.schedule import FULL_WEEK
from contracts.topics import organiser_inbound_topic
from loketkit.testing import RecordingDeadLetters, deliver, deliver_raw
from services.capacity.domain.model import Location, PlaceSource
from tests.unit.capacity.conftest import NEXT_MONTH, NOW
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

AREA = "kempen-gml"
ORGANISER = "/organisers/kinderopvang-kempen"
OWNER = "org-zonneke"  # the location's organiser: its Kafka principal
INBOUND = organiser_inbound_topic(OWNER)


def announced(place_id: str = "org-17", **changes: Any) -> PlaceFreed:
    facts: dict[str, object] = {
        "service_area": AREA, "place_id": place_id, "location_id": "loc-a",
        "municipality_nis": "13053", "available_from": NEXT_MONTH, "min_age_months": 6,
        "day_parts": ["mon_am", "mon_pm"],
        "max_age_months": 30, "freed_at": datetime(2026, 11, 1, tzinfo=UTC),
    }
    return PlaceFreed.model_validate(facts | changes)


@pytest.fixture(autouse=True)
def known_location(uow: FakeCapacityUnitOfWork) -> Location:
    location = Location(
        location_id="loc-a", service_area=AREA, name="Onthaal De Kleine Beer",
        municipality_nis="13053", postcode="2430", capacity=8, subsidy_tier="plus",
        organiser_id=OWNER,
    )
    uow.locations.locations["loc-a"] = location
    return location


async def from_organiser(app: FastAPI, data: EventData) -> tuple[str, CloudEvent]:
    """The announcement as it arrives on the inbound topic; returns what happened."""
    event = new_event(data, source=ORGANISER)
    key, value, headers = to_kafka(event)
    outcome = await deliver_raw(app.state.consumer, value, headers, key, topic=INBOUND)
    return outcome, event


async def test_a_valid_announcement_is_republished_with_the_same_facts(
    app: FastAPI, uow: FakeCapacityUnitOfWork
) -> None:
    outcome, inbound = await from_organiser(app, announced())
    assert outcome == "applied"
    [republished] = uow.published
    assert uow.published_data() == [announced()]
    assert republished.causationid == inbound.id
    assert republished.correlationid == inbound.correlationid
    assert republished.source == "/loket/capacity"
    assert uow.places.places["org-17"].source is PlaceSource.ORGANISER


async def test_an_applied_announcement_is_audited_as_the_organisers_system(
    app: FastAPI, uow: FakeCapacityUnitOfWork
) -> None:
    await from_organiser(app, announced("org-17"))
    refused, _ = await from_organiser(app, announced("org-18", municipality_nis="13008"))
    assert refused == "dead-lettered"  # no change, no record
    assert [(r.subject, r.role, r.action, r.object_type, r.object_id, r.service_area)
            for r in uow.audit_trail.rows] == [
        ("kafka:org-zonneke", "system", "PlaceFreed", "location", "loc-a", AREA)]


async def test_an_unknown_location_is_dead_lettered_naming_the_field(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    outcome = await deliver(app.state.consumer, announced(location_id="loc-nowhere"),
                            source=ORGANISER, topic=INBOUND)
    assert outcome == "dead-lettered"
    assert dead_letters.reasons == ["field 'data.location_id': unknown location"]
    assert uow.published == []


async def test_a_repeated_place_id_publishes_nothing_more(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    await deliver(app.state.consumer, announced("org-17"), source=ORGANISER, topic=INBOUND)
    # A new event id, the same place.
    outcome = await deliver(app.state.consumer, announced("org-17"), source=ORGANISER,
                            topic=INBOUND)
    assert outcome == "applied"
    assert len(uow.published) == 1
    assert dead_letters.sent == []


async def test_a_repeated_event_is_applied_once(
    app: FastAPI, uow: FakeCapacityUnitOfWork
) -> None:
    event = new_event(announced(), source=ORGANISER)
    key, value, headers = to_kafka(event)
    outcomes = [await deliver_raw(app.state.consumer, value, headers, key, INBOUND)
                for _ in range(2)]
    assert outcomes == ["applied", "duplicate"]
    assert len(uow.published) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"service_area": "antwerpen"}, "data.service_area"),
        ({"municipality_nis": "13008"}, "data.municipality_nis"),
        ({"max_age_months": 40}, "data.max_age_months"),
        ({"available_from": date(2020, 1, 1)}, "data.available_from"),
    ],
)
async def test_an_announcement_that_does_not_fit_the_location_is_rejected(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters,
    changes: dict[str, Any], field: str,
) -> None:
    outcome, _ = await from_organiser(app, announced(**changes))
    assert outcome == "dead-lettered"
    [letter] = dead_letters.sent
    assert letter.headers["dlq_reason"].startswith(f"field '{field}':")
    assert letter.headers["dlq_original_topic"] == INBOUND
    assert uow.published == []


async def test_a_closed_or_full_location_rejects_announcements(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters,
    known_location: Location,
) -> None:
    known_location.licensed_places = 1
    await deliver(app.state.consumer, announced("org-1"), source=ORGANISER, topic=INBOUND)
    outcome = await deliver(app.state.consumer, announced("org-2"), source=ORGANISER, topic=INBOUND)
    assert outcome == "dead-lettered"
    assert dead_letters.reasons[-1].startswith("field 'data.day_parts': mon_am")
    # Another day-part still has room.
    assert await deliver(app.state.consumer, announced("org-4", day_parts=["fri_am"]),
                         source=ORGANISER, topic=INBOUND) == "applied"
    known_location.closed = True
    await deliver(app.state.consumer, announced("org-3"), source=ORGANISER, topic=INBOUND)
    assert "closed" in dead_letters.reasons[-1]
    assert len(uow.published) == 2


async def test_a_v1_announcement_is_a_full_week_place(
    app: FastAPI, uow: FakeCapacityUnitOfWork
) -> None:
    old = PlaceFreedV1.model_validate(announced().model_dump(exclude={"day_parts"}))
    outcome, _ = await from_organiser(app, old)
    assert outcome == "applied"
    assert uow.places.places["org-17"].day_parts == FULL_WEEK
    [republished] = uow.published_data()
    assert isinstance(republished, PlaceFreed) and republished.day_parts == list(FULL_WEEK)


async def test_an_organiser_withdraws_its_place_once_and_a_stray_withdrawal_is_refused(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    await from_organiser(app, announced())
    withdrawal = PlaceWithdrawn(service_area=AREA, place_id="org-17", location_id="loc-a",
                                municipality_nis="13053", withdrawn_at=NOW)
    assert (await from_organiser(app, withdrawal))[0] == "applied"
    assert isinstance(uow.published_data()[-1], PlaceWithdrawn)
    assert (await from_organiser(app, withdrawal))[0] == "applied"  # again: nothing more
    assert len(uow.published) == 2
    stray = withdrawal.model_copy(update={"place_id": "org-99"})
    assert (await from_organiser(app, stray))[0] == "dead-lettered"
    assert dead_letters.reasons == [
        "field 'data.place_id': no free place with this id at this location"]


async def test_an_organisers_licence_is_checked_and_republished(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    declared = CapacityDeclared(service_area=AREA, location_id="loc-a",
                                municipality_nis="13053", licensed_places=12, declared_at=NOW)
    assert (await from_organiser(app, declared))[0] == "applied"
    assert uow.locations.locations["loc-a"].licensed_places == 12
    assert uow.published_data() == [declared]
    elsewhere = declared.model_copy(update={"municipality_nis": "13008"})
    assert (await from_organiser(app, elsewhere))[0] == "dead-lettered"
    assert dead_letters.reasons[-1].startswith("field 'data.municipality_nis':")


async def test_an_organisers_enrolments_count_against_its_licence(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    children = [DeclaredEnrolment(enrolment_id=f"own-{n}", start_date=NEXT_MONTH,
                                  day_parts=["mon_am"]) for n in range(8)]
    declaration = EnrolmentsDeclared(service_area=AREA, location_id="loc-a",
                                     municipality_nis="13053", enrolments=children,
                                     declared_at=NOW)
    assert (await from_organiser(app, declaration))[0] == "applied"
    assert isinstance(uow.published_data()[-1], EnrolmentsDeclared)
    outcome, _ = await from_organiser(app, announced("org-1"))
    assert outcome == "dead-lettered"  # Monday morning is full
    ended = EnrolmentEnded(service_area=AREA, enrolment_id="own-3", location_id="loc-a",
                           municipality_nis="13053", ended_on=NEXT_MONTH, reason="left",
                           recorded_at=NOW)
    assert (await from_organiser(app, ended))[0] == "applied"
    assert (await from_organiser(app, ended))[0] == "applied"  # again: nothing more
    assert (await from_organiser(app, announced("org-2")))[0] == "applied"
    stray = ended.model_copy(update={"enrolment_id": "own-99"})
    assert (await from_organiser(app, stray))[0] == "dead-lettered"
    assert dead_letters.reasons[-1] == (
        "field 'data.enrolment_id': no such enrolment at this location")
    assert [type(e).__name__ for e in uow.published_data()] == [
        "EnrolmentsDeclared", "EnrolmentEnded", "PlaceFreed"]


async def test_another_organisers_topic_cannot_announce_for_the_location(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters
) -> None:
    outcome = await deliver(app.state.consumer, announced(), source=ORGANISER,
                            topic=organiser_inbound_topic("org-bolleboos"))
    assert outcome == "dead-lettered"
    assert dead_letters.reasons == [
        "field 'data.location_id': location of another organiser (org-zonneke)"]
    assert uow.published == []
    assert "org-17" not in uow.places.places


async def test_a_location_without_organiser_takes_no_announcements(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters,
    known_location: Location,
) -> None:
    known_location.organiser_id = None
    assert await deliver(app.state.consumer, announced(), source=ORGANISER,
                         topic=INBOUND) == "dead-lettered"
    assert dead_letters.reasons == [
        "field 'data.location_id': the location has no organiser system"]


@pytest.mark.parametrize("topic", ["loket.requests.v1", "loket.capacity.inbound.v1",
                                   "t1.loket.capacity.inbound.v1.org-zonneke"])
async def test_an_announcement_off_an_organisers_topic_is_refused(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters, topic: str,
) -> None:
    assert await deliver(app.state.consumer, announced(), source=ORGANISER,
                         topic=topic) == "dead-lettered"
    assert dead_letters.reasons == [
        "field 'data.location_id': not sent on an organiser's inbound topic"]
    assert uow.published == []
