"""Offers from proposal to placement, in memory: deadlines, answers, and the places
that pass on. The clock is the harness's: tests move `matching.now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.events import (
    CrisisClosure,
    MatchAccepted,
    MatchCancelled,
    MatchDeclined,
    MatchExpired,
    MatchRefused,
    MatchReminderDue,
    PlacementConfirmed,
    PlaceWithdrawn,
    RequestExpired,
    RequestUpdated,
)
from contracts.schedule import full_days
from services.matching.domain.model import MatchStatus, PlaceStatus, RequestStatus
from tests.unit.matching.harness import (
    AREA,
    MORNINGS,
    NOW,
    START,
    T0,
    Matching,
    freed,
    submitted,
)


def offer_of(matching: Matching, request_id: str, place_id: str) -> str:
    return next(p.match_id for p in matching.proposals()
                if (p.request_id, p.place_id) == (request_id, place_id))


def accepted(matching: Matching, request_id: str, place_id: str,
             keep_waiting: bool = False) -> MatchAccepted:
    proposal = next(p for p in matching.proposals()
                    if (p.request_id, p.place_id) == (request_id, place_id))
    return MatchAccepted(service_area=AREA, match_id=proposal.match_id, request_id=request_id,
                         place_id=place_id, location_id=proposal.location_id,
                         municipality_nis="13008",
                         keep_waiting_for_higher_choices=keep_waiting, accepted_at=NOW)


def declined(matching: Matching, request_id: str, place_id: str) -> MatchDeclined:
    proposal = next(p for p in matching.proposals()
                    if (p.request_id, p.place_id) == (request_id, place_id))
    return MatchDeclined(service_area=AREA, match_id=proposal.match_id, request_id=request_id,
                         place_id=place_id, location_id=proposal.location_id,
                         municipality_nis="13008", declined_at=NOW)


def refused(matching: Matching, request_id: str, place_id: str) -> MatchRefused:
    proposal = next(p for p in matching.proposals()
                    if (p.request_id, p.place_id) == (request_id, place_id))
    return MatchRefused(service_area=AREA, match_id=proposal.match_id, request_id=request_id,
                        place_id=place_id, location_id=proposal.location_id,
                        municipality_nis="13053", reason="age_group_full", refused_at=NOW)


def confirmed(matching: Matching, request_id: str, place_id: str) -> PlacementConfirmed:
    proposal = next(p for p in matching.proposals()
                    if (p.request_id, p.place_id) == (request_id, place_id))
    return PlacementConfirmed(service_area=AREA, match_id=proposal.match_id,
                              request_id=request_id, place_id=place_id,
                              location_id=proposal.location_id, municipality_nis="13053",
                              enrolment_id=f"enr-{place_id}", start_date=START,
                              day_parts=proposal.day_parts, confirmed_at=NOW)


def place_withdrawn(place_id: str, location_id: str = "loc-a") -> PlaceWithdrawn:
    return PlaceWithdrawn(service_area=AREA, place_id=place_id, location_id=location_id,
                          municipality_nis="13053", withdrawn_at=T0)


def cancellations(matching: Matching) -> list[tuple[str, str, str]]:
    return [(c.request_id, c.place_id, c.reason) for c in matching.published(MatchCancelled)]


# --- proposals and their deadlines -----------------------------------------------------


async def test_a_proposal_carries_its_deadlines_in_working_days_and_what_it_offers(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1", day_parts=MORNINGS), freed("p1"))
    [proposal] = matching.proposals()
    # Monday 2 November 2026: five working days end on Monday 9 November, Brussels time;
    # ten skip Armistice Day (Wednesday 11 November).
    assert proposal.family_answer_due == datetime(2026, 11, 9, 22, 59, 59, tzinfo=UTC)
    assert proposal.organiser_answer_due == datetime(2026, 11, 17, 22, 59, 59, tzinfo=UTC)
    assert (proposal.fit, proposal.start_date) == ("full", START)
    assert proposal.requested_day_parts == MORNINGS
    assert len(proposal.day_parts) == 10


async def test_the_settings_in_force_at_the_proposal_set_the_deadlines(
    matching: Matching,
) -> None:
    matching.uow.area_settings.put(AREA, {"family_answer": {"days": 3},
                                          "organiser_answer": {"seconds": 60}}, T0)
    matching.uow.area_settings.put(AREA, {"family_answer": {"days": 30}}, NOW + timedelta(1))
    await matching.feed(submitted("r1"), freed("p1"))
    [proposal] = matching.proposals()
    assert proposal.family_answer_due == datetime(2026, 11, 5, 22, 59, 59, tzinfo=UTC)
    assert proposal.organiser_answer_due == NOW + timedelta(seconds=60)


async def test_the_family_deadline_expires_the_offer_once_and_the_place_passes_on(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1", locations=("loc-a", "loc-b")),
                        submitted("r2", minutes=1), freed("p1"),
                        freed("p-b", location_id="loc-b"))
    first = offer_of(matching, "r1", "p1")
    matching.now = matching.match(first).family_answer_due - timedelta(seconds=1)
    await matching.run_deadlines()
    assert matching.published(MatchExpired) == []
    matching.now += timedelta(seconds=1)
    await matching.run_deadlines()
    await matching.run_deadlines()
    [expired] = matching.published(MatchExpired)
    assert (expired.match_id, expired.expired_at) == (first, matching.now)
    assert matching.match(first).status is MatchStatus.EXPIRED
    # the place goes to the next candidate; r1 leaves loc-a's list and gets loc-b at once
    assert matching.offered()[-2:] == [("r2", "p1"), ("r1", "p-b")]
    assert "loc-a" in matching.uow.requests.rows["r1"].closed_location_ids


async def test_reminders_fire_once_for_the_family_and_for_a_late_organiser(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), freed("p1"))
    match = matching.match(offer_of(matching, "r1", "p1"))
    matching.now = match.family_reminder_due
    assert await matching.run_deadlines() == 1
    assert await matching.run_deadlines() == 0
    await matching.feed(accepted(matching, "r1", "p1"))
    matching.now = match.organiser_answer_due + timedelta(days=2)
    assert await matching.run_deadlines() == 1
    assert await matching.run_deadlines() == 0
    reminders = matching.published(MatchReminderDue)
    assert [(r.addressee, r.answer_due) for r in reminders] == [
        ("family", match.family_answer_due), ("organiser", match.organiser_answer_due)]
    # only the family's deadline ends an offer: the accepted place is kept
    assert matching.match(match.match_id).status is MatchStatus.ACCEPTED
    assert matching.uow.places.rows["p1"].status is PlaceStatus.PROPOSED


async def test_an_acceptance_after_the_expiry_changes_nothing(matching: Matching) -> None:
    await matching.feed(submitted("r1"), submitted("r2", minutes=1), freed("p1"))
    first = offer_of(matching, "r1", "p1")
    matching.now = matching.match(first).family_answer_due
    await matching.run_deadlines()
    assert await matching.feed(accepted(matching, "r1", "p1")) == ["applied"]
    assert matching.match(first).status is MatchStatus.EXPIRED
    assert matching.offered() == [("r1", "p1"), ("r2", "p1")]
    assert matching.uow.requests.rows["r1"].status is RequestStatus.WAITING


# --- answers ------------------------------------------------------------------------------


async def test_a_declined_place_passes_to_the_next_candidate_at_once(matching: Matching) -> None:
    await matching.feed(submitted("r1", locations=("loc-a", "loc-b")),
                        submitted("r2", minutes=1), freed("p1"))
    await matching.feed(freed("p-b", location_id="loc-b"))  # r1 holds loc-a: waits no lower
    assert matching.offered() == [("r1", "p1")]
    await matching.feed(declined(matching, "r1", "p1"))
    assert matching.offered() == [("r1", "p1"), ("r2", "p1"), ("r1", "p-b")]
    assert matching.match(offer_of(matching, "r1", "p1")).status is MatchStatus.DECLINED
    assert not matching.uow.requests.rows["r1"].waits_at("loc-a")


async def test_a_refusal_passes_the_place_on_too(matching: Matching) -> None:
    await matching.feed(submitted("r1"), submitted("r2", minutes=1), freed("p1"))
    await matching.feed(refused(matching, "r1", "p1"))
    assert matching.offered() == [("r1", "p1"), ("r2", "p1")]
    assert matching.match(offer_of(matching, "r1", "p1")).status is MatchStatus.REFUSED
    assert matching.uow.requests.rows["r1"].status is RequestStatus.WAITING


async def test_a_higher_ranked_place_is_offered_to_a_family_holding_a_lower_offer(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1", locations=("loc-a", "loc-b")),
                        freed("p-b", location_id="loc-b"), freed("p-a"))
    assert matching.offered() == [("r1", "p-b"), ("r1", "p-a")]
    # accepting the higher one ends the lower one, whose place passes on
    await matching.feed(submitted("r2", locations=("loc-b",), minutes=1),
                        accepted(matching, "r1", "p-a"))
    assert cancellations(matching) == [("r1", "p-b", "accepted_other_offer")]
    assert matching.offered()[-1] == ("r2", "p-b")
    assert matching.uow.requests.rows["r1"].status is RequestStatus.ACCEPTED


async def test_keep_waiting_keeps_the_higher_choices_after_placement(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1", locations=("loc-a", "loc-b", "loc-c")),
                        submitted("r2", locations=("loc-a", "loc-b", "loc-c"), minutes=1),
                        freed("p-b", location_id="loc-b"))
    await matching.feed(accepted(matching, "r1", "p-b", keep_waiting=True),
                        confirmed(matching, "r1", "p-b"))
    r1 = matching.uow.requests.rows["r1"]
    assert r1.status is RequestStatus.PLACED
    assert r1.waiting_location_ids() == ("loc-a",)
    assert matching.uow.places.rows["p-b"].status is PlaceStatus.FILLED
    await matching.feed(freed("p-a"), freed("p-c", location_id="loc-c"))
    assert matching.offered()[1:] == [("r1", "p-a"), ("r2", "p-c")]
    # without keeping waiting, placement closes every choice
    await matching.feed(accepted(matching, "r2", "p-c"), confirmed(matching, "r2", "p-c"))
    assert matching.uow.requests.rows["r2"].waiting_location_ids() == ()


async def test_a_placement_ends_the_other_offers_of_the_child(matching: Matching) -> None:
    await matching.feed(submitted("r1", locations=("loc-a", "loc-b")),
                        freed("p-b", location_id="loc-b"), freed("p-a"),
                        submitted("r2", locations=("loc-a",), minutes=1))
    await matching.feed(confirmed(matching, "r1", "p-b"))  # the acceptance is still on its way
    assert cancellations(matching) == [("r1", "p-a", "placed_elsewhere")]
    assert matching.offered()[-1] == ("r2", "p-a")
    assert matching.match(offer_of(matching, "r1", "p-b")).status is MatchStatus.CONFIRMED
    # the late acceptance, and the confirmation again, change nothing
    assert await matching.feed(accepted(matching, "r1", "p-b"),
                               confirmed(matching, "r1", "p-b")) == ["applied", "applied"]
    assert matching.match(offer_of(matching, "r1", "p-b")).status is MatchStatus.CONFIRMED


async def test_an_answer_naming_another_request_is_dead_lettered(matching: Matching) -> None:
    await matching.feed(submitted("r1"), freed("p1"))
    wrong = declined(matching, "r1", "p1").model_copy(update={"request_id": "r-other"})
    assert await matching.feed(wrong) == ["dead-lettered"]
    assert "data.request_id" in matching.dead_letters.reasons[0]


# --- places and requests that change -------------------------------------------------------


async def test_a_withdrawn_place_cancels_its_offer_and_the_request_waits_again(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), freed("p1"), freed("p2"))
    await matching.feed(place_withdrawn("p1"))
    assert cancellations(matching) == [("r1", "p1", "place_withdrawn")]
    assert matching.uow.places.rows["p1"].status is PlaceStatus.WITHDRAWN
    assert matching.offered() == [("r1", "p1"), ("r1", "p2")]


async def test_a_place_withdrawn_before_it_was_freed_is_never_offered(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), place_withdrawn("p1"), freed("p1"))
    assert matching.proposals() == []
    assert matching.uow.places.rows["p1"].status is PlaceStatus.WITHDRAWN


async def test_an_update_that_drops_the_location_cancels_the_offer(matching: Matching) -> None:
    await matching.feed(submitted("r1", locations=("loc-a", "loc-b")),
                        submitted("r2", minutes=1), freed("p1"),
                        freed("p-b", location_id="loc-b"))
    update = RequestUpdated(service_area=AREA, request_id="r1", municipality_nis="13008",
                            desired_start_date=START, day_parts=full_days(4),
                            preferred_location_ids=["loc-b"], updated_at=NOW)
    await matching.feed(update)
    assert cancellations(matching) == [("r1", "p1", "request_updated")]
    assert matching.offered() == [("r1", "p1"), ("r2", "p1"), ("r1", "p-b")]


async def test_an_expired_request_ends_its_offer(matching: Matching) -> None:
    await matching.feed(submitted("r1"), submitted("r2", minutes=1), freed("p1"))
    await matching.feed(RequestExpired(service_area=AREA, request_id="r1",
                                       municipality_nis="13008", confirmation_asked_at=T0,
                                       expired_at=NOW))
    assert cancellations(matching) == [("r1", "p1", "request_expired")]
    assert matching.uow.requests.rows["r1"].status is RequestStatus.EXPIRED
    assert matching.offered()[-1] == ("r2", "p1")


async def test_a_closure_ends_the_live_offers_at_the_location(matching: Matching) -> None:
    await matching.feed(submitted("r1", locations=("loc-a", "loc-b")), freed("p1"))
    await matching.feed(CrisisClosure(service_area=AREA, closure_id="c1", location_id="loc-a",
                                      municipality_nis="13053", reason="bankruptcy",
                                      effective_from=START, announced_at=T0))
    assert cancellations(matching) == [("r1", "p1", "location_closed")]
    assert matching.uow.places.rows["p1"].status is PlaceStatus.CANCELLED
    assert matching.uow.requests.rows["r1"].status is RequestStatus.WAITING


# --- fit and siblings ------------------------------------------------------------------------


async def test_a_partial_fit_only_where_the_area_allows_it_and_the_family_accepts_it(
    matching: Matching,
) -> None:
    await matching.feed(submitted("no-partial", day_parts=full_days(2)),
                        submitted("partial", day_parts=full_days(2), partial=True, minutes=1),
                        freed("p1", day_parts=["mon_am", "mon_pm", "tue_am"]))
    assert matching.proposals() == []  # the area does not allow partial fits (default)
    matching.uow.area_settings.put(AREA, {"partial_fit_allowed": True,
                                          "partial_fit_min_share": 0.75}, T0)
    await matching.feed(freed("p-half", day_parts=["mon_am", "mon_pm"]),
                        freed("p2", day_parts=["mon_am", "mon_pm", "tue_am"]))
    [proposal] = matching.proposals()
    assert (proposal.request_id, proposal.place_id, proposal.fit) == ("partial", "p2",
                                                                      "partial")


async def test_a_full_fit_comes_before_a_partial_one(matching: Matching) -> None:
    matching.uow.area_settings.put(AREA, {"partial_fit_allowed": True}, T0)
    await matching.feed(freed("p-partial", day_parts=["mon_am", "mon_pm"]),
                        freed("p-full", location_id="loc-b"),
                        submitted("r1", locations=("loc-a", "loc-b"), day_parts=full_days(2),
                                  partial=True))
    assert [(p.place_id, p.fit) for p in matching.proposals()] == [("p-full", "full")]


async def test_a_sibling_is_offered_another_place_at_the_same_location(
    matching: Matching,
) -> None:
    await matching.feed(submitted("other", locations=("loc-a",)),
                        submitted("brother", locations=("loc-b", "loc-a"), minutes=3),
                        submitted("sister", locations=("loc-a",), minutes=2,
                                  sibling_requests=("brother",)),
                        freed("p1"))
    assert matching.offered() == [("other", "p1")]
    await matching.feed(freed("p2"), freed("p3"))
    # p2 goes to the sister (next in line at loc-a), p3 to her brother at once
    assert matching.offered()[1:] == [("sister", "p2"), ("brother", "p3")]


# --- worklist -------------------------------------------------------------------------------


async def test_the_worklist_shows_late_organisers_and_urgent_requests_without_offer(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), freed("p1"),
                        submitted("urgent", urgency="urgent", locations=("loc-z",)),
                        submitted("crisis", urgency="crisis", locations=("loc-z",), minutes=1))
    match = matching.match(offer_of(matching, "r1", "p1"))
    await matching.feed(accepted(matching, "r1", "p1"))
    matching.now = match.organiser_answer_due + timedelta(days=3)
    async with matching.client() as client:
        response = await client.get(f"/service-areas/{AREA}/worklist")
        bad = await client.get("/service-areas/Not%20An%20Area/worklist")
    assert response.status_code == 200
    body = response.json()
    assert [(o["match_id"], o["location_id"], o["days_overdue"])
            for o in body["organiser_overdue"]] == [(match.match_id, "loc-a", 3)]
    assert [r["request_id"] for r in body["urgent_without_offer"]] == ["urgent", "crisis"]
    assert bad.status_code == 422


async def test_offer_settings_are_recorded_as_versions(matching: Matching) -> None:
    async with matching.client() as client:
        made = await client.post(f"/service-areas/{AREA}/settings",
                                 json={"family_answer": {"working_days": 3},
                                       "partial_fit_allowed": True})
        wrong = await client.post(f"/service-areas/{AREA}/settings",
                                  json={"partial_fit_min_share": 1.5})
        now = await client.get(f"/service-areas/{AREA}/settings")
    assert made.status_code == 201
    assert wrong.status_code == 422
    assert now.json()["version"] == 1
    assert now.json()["settings"]["family_answer"]["working_days"] == 3
