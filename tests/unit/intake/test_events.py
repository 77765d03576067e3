"""Intake's answers to other services' events, in memory: offers and what becomes of
them, placements, and the notices the family gets."""

from __future__ import annotations

from datetime import date

from contracts import new_event
from contracts.events import PlacementConfirmed
from loketkit.testing import deliver_event
from services.intake.domain.model import OfferStatus, Status
from tests.unit.intake.harness import (
    PARENT,
    Intake,
    cancelled,
    enrolment_ended,
    expired,
    placed,
    proposal,
    refused,
    reminder,
)


async def test_an_offer_shows_on_the_request_and_the_family_is_told_its_deadline(
    intake: Intake,
) -> None:
    await intake.register("loc-a", name="Zonnetje")
    await intake.submit()
    assert await intake.deliver(proposal("req-1")) == "applied"
    followed = await intake.follow("req-1")
    assert followed["status"] == "waiting"
    offers = followed["offers"]
    assert isinstance(offers, list) and len(offers) == 1
    offer = offers[0]
    assert (offer["match_id"], offer["status"], offer["location_id"]) == (
        "m-req-1-loc-a", "open", "loc-a")
    assert await intake.states("req-1") == {"loc-a": "offered"}
    [notice] = intake.notices()
    assert (notice.kind, notice.recipient) == ("offer_made", "an@example.be")
    assert "Zonnetje" in notice.subject and "30/11/2026 om 10:00" in notice.body
    assert "Lotte" in notice.body and "maandag en dinsdag (hele dag)" in notice.body
    assert "Peeters" not in notice.body and "26101212345" not in notice.body


async def test_a_repeated_offer_changes_nothing(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    assert await intake.deliver(proposal("req-1")) == "applied"  # same offer, new envelope
    assert len((await intake.follow("req-1"))["offers"]) == 1  # type: ignore[arg-type]
    assert intake.kinds() == ["offer_made"]


async def test_a_family_without_email_gets_no_notice(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit(parent=PARENT | {"email": None})
    await intake.deliver(proposal("req-1"))
    await intake.deliver(reminder("req-1"))
    assert intake.notices() == []
    listed = (await intake.client.get(
        "/requests", params={"without_email": "true", "has_open_offer": "true"})).json()
    assert [request["request_id"] for request in listed] == ["req-1"]


async def test_an_offer_for_a_withdrawn_request_changes_nothing(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.client.post("/requests/req-1/withdraw")
    assert await intake.deliver(proposal("req-1")) == "applied"
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.status is Status.WITHDRAWN and stored.offers == []
    assert intake.notices() == []


async def test_an_offer_for_an_unknown_request_is_dead_lettered(intake: Intake) -> None:
    assert await intake.deliver(proposal("req-unknown")) == "dead-lettered"
    assert "data.request_id" in intake.dead_letters.reasons[0]
    assert await intake.deliver(placed("req-unknown")) == "dead-lettered"


async def test_reminder_expiry_and_refusal_tell_the_family(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b"):
        await intake.register(location_id)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])
    await intake.deliver(proposal("req-1", "loc-a"))
    await intake.deliver(reminder("req-1", "loc-a"))
    await intake.deliver(reminder("req-1", "loc-a", addressee="organiser"))
    await intake.deliver(expired("req-1", "loc-a"))
    await intake.deliver(expired("req-1", "loc-a"))  # a repeat: no second notice
    await intake.deliver(proposal("req-1", "loc-b"))
    await intake.client.post("/requests/req-1/offers/m-req-1-loc-b/accept")
    await intake.deliver(refused("req-1", "loc-b"))
    assert intake.kinds() == ["offer_made", "offer_reminder", "offer_expired", "offer_made",
                              "offer_refused"]
    assert await intake.states("req-1") == {"loc-a": "expired", "loc-b": "refused"}
    assert (await intake.follow("req-1"))["status"] == "waiting"


async def test_an_acceptance_matching_read_after_the_deadline_ends_with_the_expiry(
    intake: Intake,
) -> None:
    """Matching owns the deadline: it expired the offer and passed the place on before it
    read the family's acceptance, so the family is told it came too late."""
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    assert (await intake.client.post("/requests/req-1/offers/m-req-1-loc-a/accept")
            ).status_code == 200
    assert await intake.deliver(expired("req-1")) == "applied"
    assert await intake.states("req-1") == {"loc-a": "expired"}
    assert intake.kinds() == ["offer_made", "acceptance_too_late"]
    [notice] = [n for n in intake.uow.notices.rows if n.kind == "acceptance_too_late"]
    assert "te laat" in notice.subject and "Lotte" in notice.subject


async def test_a_refusal_read_before_its_offer_ends_it_without_telling_the_family(
    intake: Intake,
) -> None:
    """The organiser refused (capacity's topic) before intake read the offer (matching's):
    the offer must not come back to life when it arrives."""
    await intake.register("loc-a")
    await intake.submit()
    assert await intake.deliver(refused("req-1")) == "applied"
    assert await intake.deliver(proposal("req-1")) == "applied"
    offers = (await intake.follow("req-1"))["offers"]
    assert isinstance(offers, list)
    [offer] = offers
    assert (offer["status"], offer["refusal_reason"]) == ("refused", "age_group_full")
    assert offer["day_parts"] == ["mon_am", "mon_pm", "tue_am", "tue_pm"]  # the details came
    assert intake.kinds() == []  # the family never heard of this offer


async def test_a_placement_places_the_request_and_tells_the_family(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b"):
        await intake.register(location_id)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b"])
    await intake.deliver(proposal("req-1", "loc-b"))
    await intake.client.post("/requests/req-1/offers/m-req-1-loc-b/accept")
    assert await intake.deliver(placed("req-1", "loc-b")) == "applied"
    followed = await intake.follow("req-1")
    assert followed["status"] == "placed"
    assert followed["placement"] == {
        "match_id": "m-req-1-loc-b", "location_id": "loc-b", "enrolment_id": "e-req-1",
        "start_date": "2027-09-01", "day_parts": ["mon_am", "mon_pm", "tue_am", "tue_pm"],
        "ended_on": None}
    # without keep-waiting, the other choices close
    assert await intake.states("req-1") == {"loc-a": "closed", "loc-b": "placed"}
    assert intake.kinds()[-1] == "placed"
    await intake.deliver(placed("req-1", "loc-b"))  # a repeat: nothing new
    assert intake.kinds().count("placed") == 1


async def test_keep_waiting_keeps_only_higher_choices_open(intake: Intake) -> None:
    for location_id in ("loc-a", "loc-b", "loc-c"):
        await intake.register(location_id)
    await intake.submit(preferred_location_ids=["loc-a", "loc-b", "loc-c"])
    await intake.deliver(proposal("req-1", "loc-b"))
    accepted = await intake.client.post("/requests/req-1/offers/m-req-1-loc-b/accept",
                                        json={"keep_waiting_for_higher_choices": True})
    assert accepted.status_code == 200
    await intake.deliver(placed("req-1", "loc-b"))
    assert await intake.states("req-1") == {"loc-a": "waiting", "loc-b": "placed",
                                            "loc-c": "closed"}


async def test_a_placement_read_before_its_offer_still_places(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(placed("req-1"))
    await intake.deliver(proposal("req-1"))  # the late offer changes nothing
    followed = await intake.follow("req-1")
    assert followed["status"] == "placed"
    assert [o["status"] for o in followed["offers"]] == ["placed"]  # type: ignore[attr-defined]
    assert intake.kinds() == ["placed"]


async def test_an_ended_enrolment_shows_on_the_placement(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    await intake.deliver(placed("req-1"))
    assert await intake.deliver(enrolment_ended("req-1", ended_on=date(2028, 6, 30))) == (
        "applied")
    placement = (await intake.follow("req-1"))["placement"]
    assert isinstance(placement, dict) and placement["ended_on"] == "2028-06-30"


async def test_a_cancelled_offer_lets_the_family_wait_again(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    await intake.deliver(cancelled("req-1", reason="place_withdrawn"))
    stored = await intake.uow.requests.get("req-1")
    assert stored and stored.offers[0].status is OfferStatus.CANCELLED
    assert stored.offers[0].cancel_reason == "place_withdrawn"
    assert await intake.states("req-1") == {"loc-a": "waiting"}


async def test_an_event_delivered_twice_is_applied_once(intake: Intake) -> None:
    await intake.register("loc-a")
    await intake.submit()
    await intake.deliver(proposal("req-1"))
    event = new_event(placed("req-1"), source="/capacity")
    assert isinstance(placed("req-1"), PlacementConfirmed)
    assert await deliver_event(intake.app.state.consumer, event) == "applied"
    assert await deliver_event(intake.app.state.consumer, event) == "duplicate"
    assert intake.kinds() == ["offer_made", "placed"]
