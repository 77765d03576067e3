"""Offers as capacity sees them (MatchProposed, the family's answers, expiry,
cancellation, reminders) and the organiser's answers (confirm, refuse) by HTTP and
on the inbound topic, on the real app over fakes."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI

from contracts import new_event, to_kafka
from contracts.events import (
    CrisisClosure,
    EnrolmentEnded,
    MatchCancelled,
    MatchDeclined,
    MatchExpired,
    MatchProposed,
    MatchRefused,
    MatchReminderDue,
    PlacementConfirmed,
    RequestWithdrawn,
)
from contracts.schedule import DAY_PARTS
from contracts.topics import organiser_inbound_topic
from loketkit.testing import RecordingDeadLetters, deliver, deliver_raw
from services.capacity.domain.model import OfferStatus, PlaceStatus
from tests.unit.capacity.conftest import NEXT_MONTH, NOW, acceptance, proposal
from tests.unit.capacity.fakes import FakeCapacityUnitOfWork

LOCATION = {"location_id": "loc-a", "name": "De Bolleboos", "municipality_nis": "13008",
            "postcode": "2440", "capacity": 2, "subsidy_tier": "plus",
            "organiser_email": "opvang@bolleboos.example", "organiser_id": "org-zonneke"}
ORGANISER = "/organisers/bolleboos"


def fields(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json()["fields"]]


@pytest.fixture
async def place(client: httpx.AsyncClient) -> str:
    """A location with an organiser address and one free place, full week."""
    assert (await client.post("/locations", json=LOCATION)).status_code == 201
    freed = await client.post("/locations/loc-a/free-places",
                              json={"available_from": str(NEXT_MONTH)})
    place_id: str = freed.json()["place_ids"][0]
    return place_id


async def offered(app: FastAPI, place: str, match_id: str = "match-1",
                  request_id: str = "req-1") -> MatchProposed:
    offer = proposal(match_id=match_id, place_id=place, request_id=request_id)
    assert await deliver(app.state.consumer, offer, source="/loket/matching") == "applied"
    return offer


async def test_the_work_list_shows_offers_pseudonymously(
    app: FastAPI, client: httpx.AsyncClient, place: str
) -> None:
    offer = await offered(app, place)
    [listed] = (await client.get("/locations/loc-a/offers")).json()
    assert (listed["match_id"], listed["request_id"], listed["status"]) == (
        "match-1", "req-1", "proposed")
    assert listed["organiser_answer_due"].startswith(offer.organiser_answer_due.date().isoformat())
    assert listed["requested_day_parts"] == ["mon_am", "mon_pm", "tue_am"]
    assert (await client.get("/locations/loc-x/offers")).status_code == 404


async def test_accept_then_confirm_places_the_child_and_fills_the_place(
    app: FastAPI, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork, place: str
) -> None:
    offer = await offered(app, place)
    too_early = await client.post("/offers/match-1/confirm", json={})
    assert (too_early.status_code, fields(too_early)) == (409, ["match_id"])
    await deliver(app.state.consumer, acceptance(offer), source="/loket/intake")
    confirmed = await client.post("/offers/match-1/confirm", json={})
    assert confirmed.status_code == 201, confirmed.text
    enrolment = confirmed.json()
    # By default: what the family asked for, as far as the place covers it.
    assert enrolment["day_parts"] == ["mon_am", "mon_pm", "tue_am"]
    assert (enrolment["start_date"], enrolment["request_id"]) == (str(NEXT_MONTH), "req-1")
    event = uow.published_data()[-1]
    assert isinstance(event, PlacementConfirmed)
    assert (event.match_id, event.place_id, event.enrolment_id) == (
        "match-1", place, enrolment["enrolment_id"])
    assert uow.places.places[place].status is PlaceStatus.FILLED
    occupancy = (await client.get(f"/locations/loc-a/occupancy?on={NEXT_MONTH}")).json()
    by_part = {p["day_part"]: p for p in occupancy["day_parts"]}
    assert (by_part["mon_am"]["enrolled"], by_part["mon_am"]["free"]) == (1, 0)
    assert (by_part["fri_pm"]["enrolled"], by_part["fri_pm"]["available"]) == (0, 2)
    again = await client.post("/offers/match-1/confirm", json={})
    assert (again.status_code, fields(again)) == (409, ["match_id"])
    listed = (await client.get("/locations/loc-a/enrolments")).json()
    assert [e["enrolment_id"] for e in listed] == [enrolment["enrolment_id"]]


async def test_the_organiser_may_confirm_other_day_parts_of_the_place_only(
    app: FastAPI, client: httpx.AsyncClient, place: str
) -> None:
    offer = await offered(app, place)
    await deliver(app.state.consumer, acceptance(offer))
    later = NEXT_MONTH + timedelta(days=7)
    body = {"start_date": str(later), "day_parts": ["wed_am", "mon_am"]}
    confirmed = await client.post("/offers/match-1/confirm", json=body)
    assert confirmed.status_code == 201
    assert (confirmed.json()["day_parts"], confirmed.json()["start_date"]) == (
        ["mon_am", "wed_am"], str(later))


async def test_a_place_offered_for_some_day_parts_refuses_others(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.post("/locations", json=LOCATION)
    freed = await client.post("/locations/loc-a/free-places",
                              json={"available_from": str(NEXT_MONTH), "day_parts": ["mon_am"]})
    place = freed.json()["place_ids"][0]
    offer = proposal(place_id=place, day_parts=["mon_am"])
    await deliver(app.state.consumer, offer)
    await deliver(app.state.consumer, acceptance(offer))
    refused = await client.post("/offers/match-1/confirm", json={"day_parts": ["fri_pm"]})
    assert (refused.status_code, fields(refused)) == (409, ["day_parts"])


async def test_confirming_elsewhere_ends_the_earlier_enrolment_when_the_new_one_starts(
    app: FastAPI, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork, place: str
) -> None:
    first = await offered(app, place)
    await deliver(app.state.consumer, acceptance(first, keep_waiting=True))
    await client.post("/offers/match-1/confirm", json={"start_date": str(NEXT_MONTH)})
    other = LOCATION | {"location_id": "loc-b", "name": "Het Zonneke"}
    await client.post("/locations", json=other)
    freed = await client.post("/locations/loc-b/free-places",
                              json={"available_from": str(NEXT_MONTH)})
    higher = proposal(match_id="match-2", place_id=freed.json()["place_ids"][0],
                      location_id="loc-b", start_date=NEXT_MONTH + timedelta(days=60))
    await deliver(app.state.consumer, higher)
    await deliver(app.state.consumer, acceptance(higher))
    confirmed = await client.post("/offers/match-2/confirm", json={})
    assert confirmed.status_code == 201
    ended = [e for e in uow.published_data() if isinstance(e, EnrolmentEnded)]
    assert [(e.location_id, e.request_id, e.reason) for e in ended] == [
        ("loc-a", "req-1", "moved_to_other_choice")]
    assert ended[0].ended_on == NEXT_MONTH + timedelta(days=60)


async def test_refusing_an_offer_publishes_match_refused_with_the_reason(
    app: FastAPI, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork, place: str
) -> None:
    await offered(app, place)
    refused = await client.post("/offers/match-1/refuse", json={"reason": "age_group_full"})
    assert refused.status_code == 200
    assert refused.json()["status"] == "refused"
    event = uow.published_data()[-1]
    assert isinstance(event, MatchRefused)
    assert (event.reason, event.place_id) == ("age_group_full", place)
    assert uow.places.places[place].status is PlaceStatus.OPEN  # it passes to the next
    again = await client.post("/offers/match-1/refuse", json={"reason": "other"})
    assert (again.status_code, fields(again)) == (409, ["match_id"])
    bad = await client.post("/offers/match-1/refuse", json={"reason": "no_reason"})
    assert (bad.status_code, fields(bad)) == (422, ["reason"])
    unknown = await client.post("/offers/match-9/refuse", json={"reason": "other"})
    assert (unknown.status_code, fields(unknown)) == (404, ["match_id"])


@pytest.mark.parametrize("ending", ["declined", "expired", "cancelled"])
async def test_an_ended_offer_frees_the_place_for_withdrawal(
    app: FastAPI, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork, place: str,
    ending: str,
) -> None:
    offer = await offered(app, place)
    common = {"service_area": "kempen-gml", "match_id": "match-1", "request_id": "req-1",
              "place_id": place, "location_id": "loc-a"}
    offer_facts = common | {"location_municipality_nis": "13008",
                            "request_municipality_nis": "13008"}
    end = {
        "declined": MatchDeclined(**common, municipality_nis="13008", declined_at=NOW),
        "expired": MatchExpired(**offer_facts, family_answer_due=offer.family_answer_due,
                                expired_at=NOW),
        "cancelled": MatchCancelled(**offer_facts, reason="request_withdrawn",
                                    cancelled_at=NOW),
    }[ending]
    withdraw = f"/locations/loc-a/free-places/{place}/withdraw"
    assert (await client.post(withdraw)).status_code == 409
    await deliver(app.state.consumer, end)
    assert uow.offers.offers["match-1"].status is OfferStatus.ENDED
    withdrawn = await client.post(withdraw)
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")


async def test_answers_read_before_the_proposal_are_kept(
    app: FastAPI, client: httpx.AsyncClient, uow: FakeCapacityUnitOfWork, place: str
) -> None:
    offer = proposal(place_id=place)
    await deliver(app.state.consumer, acceptance(offer))
    assert uow.notices.rows == []  # no details yet to tell the organiser
    early = await client.post("/offers/match-1/confirm", json={})
    assert early.status_code == 409 and "not been read yet" in early.text
    await deliver(app.state.consumer, offer)
    stored = uow.offers.offers["match-1"]
    assert (stored.status, stored.start_date) == (OfferStatus.ACCEPTED, NEXT_MONTH)
    assert [n.kind for n in uow.notices.rows] == ["offer_accepted"]
    assert (await client.post("/offers/match-1/confirm", json={})).status_code == 201


async def test_the_organiser_is_told_of_an_acceptance_without_child_data(
    app: FastAPI, uow: FakeCapacityUnitOfWork, place: str
) -> None:
    offer = await offered(app, place)
    await deliver(app.state.consumer, acceptance(offer))
    [notice] = uow.notices.rows
    assert (notice.kind, notice.recipient) == ("offer_accepted", "opvang@bolleboos.example")
    assert "De Bolleboos" in notice.subject
    assert "match-1" in notice.body and NEXT_MONTH.strftime("%d/%m/%Y") in notice.body
    assert "maandag (hele dag), dinsdag voormiddag" in notice.body
    assert "req-1" not in notice.body  # not even the pseudonymous request id
    due = offer.organiser_answer_due.strftime("%d/%m/%Y")
    assert due in notice.body


async def test_an_overdue_organiser_is_reminded_and_the_familys_reminder_ignored(
    app: FastAPI, uow: FakeCapacityUnitOfWork, place: str
) -> None:
    await offered(app, place)
    facts = {"service_area": "kempen-gml", "match_id": "match-1", "request_id": "req-1",
             "place_id": place, "location_id": "loc-a", "location_municipality_nis": "13008",
             "request_municipality_nis": "13008", "answer_due": NOW, "reminded_at": NOW}
    await deliver(app.state.consumer, MatchReminderDue(**facts, addressee="family"))
    assert uow.notices.rows == []
    await deliver(app.state.consumer, MatchReminderDue(**facts, addressee="organiser"))
    [notice] = uow.notices.rows
    assert notice.kind == "organiser_overdue"
    assert "match-1" in notice.body


async def test_events_capacity_has_no_use_for_are_ignored_not_dead_lettered(
    app: FastAPI, dead_letters: RecordingDeadLetters
) -> None:
    withdrawn = RequestWithdrawn(service_area="kempen-gml", request_id="req-1",
                                 municipality_nis="13008", reason="by_family",
                                 withdrawn_at=NOW)
    assert await deliver(app.state.consumer, withdrawn) == "ignored"
    closure = CrisisClosure(service_area="kempen-gml", closure_id="c1", location_id="loc-a",
                            municipality_nis="13008", reason="bankruptcy",
                            effective_from=date(2026, 12, 1), announced_at=NOW)
    assert await deliver(app.state.consumer, closure) == "ignored"
    assert dead_letters.sent == []


# ---- the organiser's answers from its own system ------------------------------------


async def from_organiser(app: FastAPI, data: PlacementConfirmed | MatchRefused) -> str:
    key, value, headers = to_kafka(new_event(data, source=ORGANISER))
    return await deliver_raw(app.state.consumer, value, headers, key,
                             topic=organiser_inbound_topic("org-zonneke"))


def organiser_confirms(place: str, **changes: object) -> PlacementConfirmed:
    facts: dict[str, object] = {
        "service_area": "kempen-gml", "match_id": "match-1", "request_id": "req-1",
        "place_id": place, "location_id": "loc-a", "municipality_nis": "13008",
        "enrolment_id": "own-77", "start_date": NEXT_MONTH, "day_parts": list(DAY_PARTS[:4]),
        "confirmed_at": NOW,
    }
    return PlacementConfirmed.model_validate(facts | changes)


async def test_an_organisers_confirmation_is_checked_and_republished_as_ours(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters, place: str
) -> None:
    offer = await offered(app, place)
    await deliver(app.state.consumer, acceptance(offer))
    assert await from_organiser(app, organiser_confirms(place)) == "applied"
    republished = uow.published[-1]
    assert republished.source == "/loket/capacity"
    event = uow.published_data()[-1]
    assert isinstance(event, PlacementConfirmed)
    assert (event.enrolment_id, event.day_parts) == ("own-77", list(DAY_PARTS[:4]))
    assert uow.enrolments.enrolments["own-77"].request_id == "req-1"
    # The same confirmation again (a new event id): nothing more.
    published = len(uow.published)
    assert await from_organiser(app, organiser_confirms(place)) == "applied"
    assert len(uow.published) == published
    assert dead_letters.sent == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"match_id": "match-9"}, "data.match_id"),
        ({"location_id": "loc-nowhere"}, "data.location_id"),
        ({"request_id": "req-9"}, "data.request_id"),
        ({"municipality_nis": "13053"}, "data.municipality_nis"),
        ({"day_parts": ["mon_am"]}, "data.match_id"),  # not accepted by the family yet
    ],
)
async def test_an_organisers_confirmation_that_names_no_accepted_offer_is_dead_lettered(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters, place: str,
    changes: dict[str, object], field: str,
) -> None:
    await offered(app, place)
    published = len(uow.published)
    assert await from_organiser(app, organiser_confirms(place, **changes)) == "dead-lettered"
    assert dead_letters.reasons[-1].startswith(f"field '{field}':")
    assert len(uow.published) == published


async def test_an_organisers_refusal_is_republished_and_a_stray_one_dead_lettered(
    app: FastAPI, uow: FakeCapacityUnitOfWork, dead_letters: RecordingDeadLetters, place: str
) -> None:
    await offered(app, place)
    facts = {"service_area": "kempen-gml", "match_id": "match-1", "request_id": "req-1",
             "place_id": place, "location_id": "loc-a", "municipality_nis": "13008",
             "reason": "care_need_not_met", "refused_at": NOW}
    assert await from_organiser(app, MatchRefused(**facts)) == "applied"
    assert isinstance(uow.published_data()[-1], MatchRefused)
    assert uow.offers.offers["match-1"].status is OfferStatus.REFUSED
    stray = MatchRefused(**facts | {"match_id": "match-5"})
    assert await from_organiser(app, stray) == "dead-lettered"
    assert dead_letters.reasons == ["field 'data.match_id': no such offer at this location"]
