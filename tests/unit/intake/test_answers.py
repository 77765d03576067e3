"""The family's answer to an offer (or loket staff's for it, audited), and the contact
the organiser of an accepted offer may see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.events import MatchAccepted, MatchDeclined
from tests.unit.intake.harness import (
    FAMILY_DUE,
    PARENT,
    Intake,
    expired,
    fields,
    placed,
    proposal,
)

ACCEPT = "/requests/req-1/offers/m-req-1-loc-a/accept"
DECLINE = "/requests/req-1/offers/m-req-1-loc-a/decline"


async def offered(intake: Intake, **changes: object) -> None:
    await intake.register("loc-a")
    await intake.register("loc-b")
    await intake.submit(**({"preferred_location_ids": ["loc-a", "loc-b"]} | changes))
    await intake.deliver(proposal("req-1"))


async def test_accepting_is_announced_with_the_choice_to_keep_waiting(intake: Intake) -> None:
    await offered(intake)
    answer = await intake.client.post(ACCEPT, json={"keep_waiting_for_higher_choices": True})
    assert answer.status_code == 200
    assert answer.json()["offers"][0]["status"] == "accepted"
    event = intake.uow.published_data()[-1]
    assert isinstance(event, MatchAccepted)
    assert (event.match_id, event.place_id, event.location_id, event.answered_by,
            event.keep_waiting_for_higher_choices) == (
        "m-req-1-loc-a", "p-req-1-loc-a", "loc-a", "family", True)
    assert await intake.states("req-1") == {"loc-a": "accepted", "loc-b": "waiting"}


async def test_declining_is_announced_and_the_location_leaves_the_list(intake: Intake) -> None:
    await offered(intake)
    answer = await intake.client.post(DECLINE)
    assert answer.status_code == 200
    event = intake.uow.published_data()[-1]
    assert isinstance(event, MatchDeclined) and event.match_id == "m-req-1-loc-a"
    assert await intake.states("req-1") == {"loc-a": "declined", "loc-b": "waiting"}
    assert (await intake.follow("req-1"))["status"] == "waiting"


@pytest.mark.parametrize("path", [ACCEPT, DECLINE])
async def test_only_an_open_offer_can_be_answered(intake: Intake, path: str) -> None:
    await offered(intake)
    assert (await intake.client.post(DECLINE)).status_code == 200
    again = await intake.client.post(path)
    assert again.status_code == 409 and fields(again) == ["match_id"]
    assert "m-req-1-loc-a" in again.json()["fields"][0]["message"]


async def test_an_offer_past_its_deadline_cannot_be_accepted(intake: Intake) -> None:
    await offered(intake)
    intake.clock.now = FAMILY_DUE + timedelta(seconds=1)
    late = await intake.client.post(ACCEPT)
    assert late.status_code == 409 and fields(late) == ["match_id"]
    await intake.deliver(expired("req-1"))
    assert (await intake.client.post(ACCEPT)).status_code == 409
    published = [e for e in intake.uow.published_data() if isinstance(e, MatchAccepted)]
    assert published == []


async def test_an_unknown_offer_is_a_404(intake: Intake) -> None:
    await offered(intake)
    missing = await intake.client.post("/requests/req-1/offers/m-other/accept")
    assert missing.status_code == 404 and fields(missing) == ["match_id"]


async def test_staff_answer_for_a_family_without_email_and_it_is_audited(
    intake: Intake,
) -> None:
    await offered(intake, parent=PARENT | {"email": None})
    nameless = await intake.client.post(ACCEPT, json={"answered_by": "loket_staff"})
    assert nameless.status_code == 422 and fields(nameless) == ["staff_member"]
    answer = await intake.client.post(
        ACCEPT, json={"answered_by": "loket_staff", "staff_member": "Els (loket Geel)"})
    assert answer.status_code == 200
    event = intake.uow.published_data()[-1]
    assert isinstance(event, MatchAccepted) and event.answered_by == "loket_staff"
    assert "Els" not in intake.uow.published[-1].model_dump_json()
    [entry] = (await intake.client.get("/requests/req-1/audit")).json()
    assert (entry["actor"], entry["staff_member"], entry["action"], entry["match_id"]) == (
        "loket_staff", "Els (loket Geel)", "offer_accepted", "m-req-1-loc-a")
    assert (await intake.client.get("/requests/req-404/audit")).status_code == 404


async def test_a_staff_member_name_is_bounded(intake: Intake) -> None:
    await offered(intake)
    long = await intake.client.post(
        ACCEPT, json={"answered_by": "loket_staff", "staff_member": "x" * 201})
    assert long.status_code == 422 and fields(long) == ["staff_member"]


async def test_the_organiser_sees_the_contact_once_the_family_accepted(intake: Intake) -> None:
    await offered(intake)
    contact = "/offers/m-req-1-loc-a/contact"
    assert (await intake.client.get(contact)).status_code == 404  # not accepted yet
    await intake.client.post(ACCEPT)
    shown = await intake.client.get(contact)
    assert shown.status_code == 200
    assert shown.json() == {"parent_name": "An Peeters", "email": "an@example.be",
                            "phone": "+32 470 00 00 00", "child_first_name": "Lotte",
                            "child_birth_date": "2026-10-12"}
    assert "street" not in shown.json()
    await intake.deliver(placed("req-1"))
    assert (await intake.client.get(contact)).status_code == 200  # placed: still


async def test_no_contact_without_consent_for_a_declined_offer_or_after_erasure(
    intake: Intake,
) -> None:
    await offered(intake, share_contact_with_organiser=False)
    await intake.client.post(ACCEPT)
    refused = await intake.client.get("/offers/m-req-1-loc-a/contact")
    assert refused.status_code == 404 and fields(refused) == ["match_id"]
    assert (await intake.client.get("/offers/m-unknown/contact")).status_code == 404


async def test_no_contact_for_a_declined_offer_or_after_erasure(intake: Intake) -> None:
    await offered(intake)
    await intake.deliver(proposal("req-1", "loc-b"))
    await intake.client.post(ACCEPT)
    await intake.client.post("/requests/req-1/offers/m-req-1-loc-b/decline")
    assert (await intake.client.get("/offers/m-req-1-loc-b/contact")).status_code == 404
    assert (await intake.client.get("/offers/m-req-1-loc-a/contact")).status_code == 200
    await intake.client.delete("/requests/req-1/personal-data")
    assert (await intake.client.get("/offers/m-req-1-loc-a/contact")).status_code == 404


async def test_the_family_and_staff_see_why_the_place_was_offered_to_them(
    intake: Intake,
) -> None:
    """Matching's one-sentence reason travels with the offer, so staff can read it out."""
    await intake.register("loc-a")
    await intake.submit(preferred_location_ids=["loc-a"])
    why = ("regels 'voorrangsregels van voor 2024, opnieuw sinds 30 april 2025' (basissubsidie); "
           "voorranggroep 1: ouders werken, zoeken werk, volgen opleiding of inburgering; "
           "ingeschreven op 2026-11-02.")
    await intake.deliver(proposal("req-1").model_copy(
        update={"ordering": why, "rule_set": "vlaanderen-2025"}))
    offers = (await intake.follow("req-1"))["offers"]
    assert isinstance(offers, list)
    assert [(o["rule_set"], o["why"]) for o in offers] == [("vlaanderen-2025", why)]
