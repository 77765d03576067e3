"""Matching's behaviour, in memory: who gets a free place, and never twice."""

from __future__ import annotations

from datetime import timedelta

from contracts import new_event
from contracts.events import CrisisClosure, MatchCancelled, PlaceFreed, RequestWithdrawn
from loketkit.consumer import Origin
from services.matching.domain.model import MatchStatus, PlaceStatus, RequestStatus
from tests.unit.matching.harness import AREA, NOW, START, T0, Matching, freed, submitted


def withdrawn(request_id: str) -> RequestWithdrawn:
    return RequestWithdrawn(service_area=AREA, request_id=request_id, municipality_nis="13008",
                            reason="by_family", withdrawn_at=T0)


def closure(location_id: str = "loc-a") -> CrisisClosure:
    return CrisisClosure(service_area=AREA, closure_id="c1", location_id=location_id,
                         municipality_nis="13053", reason="licence_suspended",
                         effective_from=START, announced_at=T0)


async def test_a_request_and_a_free_place_make_a_proposal(matching: Matching) -> None:
    await matching.feed(submitted("r1"), freed("p1"))
    [proposal] = matching.proposals()
    assert (proposal.request_id, proposal.place_id, proposal.location_id) == ("r1", "p1", "loc-a")
    assert proposal.location_municipality_nis == "13053"
    assert proposal.request_municipality_nis == "13008"


async def test_the_proposal_takes_its_id_and_time_from_the_injected_factories(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), freed("p1"))
    [proposal] = matching.proposals()
    assert (proposal.match_id, proposal.proposed_at) == ("match-1", NOW)
    [match] = matching.uow.matches.rows.values()
    assert (match.match_id, match.request_id, match.place_id, match.proposed_at) == (
        "match-1", "r1", "p1", NOW)
    assert matching.uow.requests.rows["r1"].status is RequestStatus.PROPOSED
    assert matching.uow.places.rows["p1"].status is PlaceStatus.PROPOSED


async def test_a_place_freed_before_the_request_is_proposed_when_it_arrives(
    matching: Matching,
) -> None:
    await matching.feed(freed("p1"), submitted("r1"))
    assert [p.place_id for p in matching.proposals()] == ["p1"]


async def test_one_place_is_never_proposed_twice(matching: Matching) -> None:
    place = new_event(freed("p1"), source="/test")
    again_other_id = freed("p1")
    outcomes = await matching.feed(submitted("r1"), submitted("r2", minutes=1), place, place,
                                   again_other_id)
    assert outcomes == ["applied", "applied", "applied", "duplicate", "applied"]
    assert [p.request_id for p in matching.proposals()] == ["r1"]


async def test_a_request_announced_again_changes_nothing(matching: Matching) -> None:
    await matching.feed(submitted("r1"), freed("p1"), submitted("r1", minutes=3))
    assert [p.request_id for p in matching.proposals()] == ["r1"]
    assert matching.uow.requests.rows["r1"].status is RequestStatus.PROPOSED


async def test_priority_facts_come_before_registration_order(matching: Matching) -> None:
    await matching.feed(submitted("early"), submitted("working", minutes=5, working=True),
                        freed("p1"))
    assert [p.request_id for p in matching.proposals()] == ["working"]


async def test_crisis_requests_come_first(matching: Matching) -> None:
    await matching.feed(submitted("normal", working=True),
                        submitted("crisis", minutes=9, urgency="crisis"), freed("p1"))
    assert [p.request_id for p in matching.proposals()] == ["crisis"]


async def test_a_crisis_request_takes_a_place_from_before_its_date_up_to_the_crisis_window(
    matching: Matching,
) -> None:
    """A child whose location closed needs care from the closure's effective date (its
    desired start): a place that started earlier serves it, one starting after the
    area's crisis window (31 days by default) does not, a year later least of all."""
    await matching.feed(submitted("crisis", urgency="crisis"),
                        freed("p-year-later", available=START + timedelta(days=365)),
                        freed("p-too-late", available=START + timedelta(days=32)))
    assert matching.proposals() == []
    await matching.feed(freed("p-earlier", available=START - timedelta(days=120)))
    assert [p.place_id for p in matching.proposals()] == ["p-earlier"]
    # the child is still in care at the closing location until then: it starts on its date
    assert matching.proposals()[0].start_date == START


async def test_no_proposal_outside_the_age_range_or_the_chosen_locations(
    matching: Matching,
) -> None:
    late_place = PlaceFreed(**{**freed("p-young").model_dump(), "min_age_months": 18})
    await matching.feed(submitted("r1"), late_place, freed("p-elsewhere", location_id="loc-b"))
    assert matching.proposals() == []


async def test_a_withdrawn_proposal_goes_to_the_next_in_line(matching: Matching) -> None:
    await matching.feed(submitted("r1"), submitted("r2", minutes=1), freed("p1"))
    await matching.feed(withdrawn("r1"))
    assert [(p.request_id, p.place_id) for p in matching.proposals()] == [
        ("r1", "p1"), ("r2", "p1")]
    assert [(m.request_id, m.status) for m in matching.uow.matches.rows.values()] == [
        ("r1", MatchStatus.CANCELLED), ("r2", MatchStatus.PROPOSED)]
    [cancelled] = matching.published(MatchCancelled)
    assert (cancelled.request_id, cancelled.reason) == ("r1", "request_withdrawn")
    assert matching.uow.requests.rows["r1"].status is RequestStatus.WITHDRAWN


async def test_a_withdrawal_repeated_or_of_a_waiting_request_proposes_nothing(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), submitted("r2", minutes=1), freed("p1"),
                        withdrawn("r2"), withdrawn("r2"), withdrawn("unknown"))
    assert [p.request_id for p in matching.proposals()] == ["r1"]
    assert matching.uow.requests.rows["r2"].status is RequestStatus.WITHDRAWN


async def test_a_withdrawn_proposal_at_a_closed_location_is_not_offered_again(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), submitted("r2", minutes=1), freed("p1"), closure(),
                        withdrawn("r1"))
    assert [p.request_id for p in matching.proposals()] == ["r1"]
    assert matching.uow.places.rows["p1"].status is PlaceStatus.CANCELLED


async def test_a_closed_location_gets_no_more_proposals(matching: Matching) -> None:
    await matching.feed(closure(), submitted("r1"), freed("p1"))
    assert matching.proposals() == []
    assert matching.uow.places.rows["p1"].status is PlaceStatus.CANCELLED
    assert matching.uow.closures.closed == {"loc-a": NOW}


async def test_a_closure_cancels_the_open_and_proposed_places_of_its_location_only(
    matching: Matching,
) -> None:
    await matching.feed(submitted("r1"), freed("p-proposed"), freed("p-open"),
                        freed("p-other", location_id="loc-b"), closure())
    statuses = {place_id: place.status for place_id, place in matching.uow.places.rows.items()}
    assert statuses == {"p-proposed": PlaceStatus.CANCELLED, "p-open": PlaceStatus.CANCELLED,
                        "p-other": PlaceStatus.OPEN}


async def test_a_malformed_event_is_dead_lettered_and_the_next_one_handled(
    matching: Matching,
) -> None:
    outcome = await matching.app.state.consumer.consume(
        b"{not json", [("ce_specversion", b"1.0")], Origin("loket.capacity.v1", 2, 41, b"k"))
    assert outcome == "dead-lettered"
    [letter] = matching.dead_letters.sent
    assert letter.headers["dlq_original_topic"] == "loket.capacity.v1"
    assert letter.headers["dlq_original_partition"] == "2"
    assert letter.headers["dlq_original_offset"] == "41"
    assert "not JSON" in matching.dead_letters.reasons[0]
    assert await matching.feed(submitted("r1")) == ["applied"]
