"""Continuous matching by the law: the location's rule set and tier, staff-assessed facts,
the required share of priority-group children, rounds, and what every offer records."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.events import EventData, PriorityFacts
from tests.unit.matching.harness import (
    AREA,
    NOW,
    START,
    Matching,
    assessed,
    children_at,
    freed,
    located,
    submitted,
)

THREE_FACTS = PriorityFacts(single_parent=True, low_income=True, foster_child=True)
WORKING = PriorityFacts(parents_working_or_training=True)


async def test_working_parents_come_before_a_family_with_three_other_facts() -> None:
    """The issue's first figure, reversed: under the pre-2024 rules in force again,
    parents who need care for work have absolute priority."""
    matching = Matching()
    await matching.feed(located("loc-a", "income_related"),
                        submitted("three-facts", facts=THREE_FACTS),
                        submitted("working", minutes=60, facts=WORKING), freed("p1"))
    [offer] = matching.proposals()
    assert offer.request_id == "working"
    assert (offer.rule_set, offer.priority_class) == ("vlaanderen-2025", "werk")
    assert "voorranggroep 2: ouders werken" in offer.ordering
    match = matching.match(offer.match_id)
    assert (match.rule_set_id, match.priority_class) == ("vlaanderen-2025", "werk")
    assert match.explanation.startswith("regels 'voorrangsregels van voor 2024")


async def test_a_free_price_location_is_bound_by_no_priority_class() -> None:
    matching = Matching()
    await matching.feed(located("loc-a", "free_price"),
                        submitted("first", facts=THREE_FACTS),
                        submitted("working", minutes=60, facts=WORKING), freed("p1"))
    [offer] = matching.proposals()
    assert (offer.request_id, offer.priority_class) == ("first", "none")
    assert "vrije prijs" in offer.ordering


async def test_urgency_counts_only_once_staff_grant_it() -> None:
    matching = Matching()
    await matching.feed(submitted("asks", locations=("loc-a",)),
                        submitted("working", minutes=5, facts=WORKING))
    await matching.feed(assessed("asks", urgent=True), freed("p1"))
    [offer] = matching.proposals()
    assert (offer.request_id, offer.urgency) == ("asks", "urgent")
    assert "dringende vraag, toegekend door het loket" in offer.ordering


async def test_a_family_staff_assess_as_vulnerable_gets_the_further_priority() -> None:
    matching = Matching()
    await matching.feed(located("loc-a", "plus"), submitted("early"),
                        submitted("vulnerable", minutes=30))
    await matching.feed(assessed("vulnerable", vulnerable=True), freed("p1"))
    [offer] = matching.proposals()
    assert (offer.request_id, offer.priority_class, offer.priority_group) == (
        "vulnerable", "voorrang", True)


async def test_a_location_short_of_its_share_offers_its_next_place_to_a_priority_group_child(
) -> None:
    """Income-related tariff: at least 20% priority-group children. With 1 of 10, the
    next place goes to a low-income family before a working one."""
    matching = Matching()
    await matching.feed(located("loc-a", "income_related"), children_at("loc-a", 10, 1),
                        submitted("working", facts=WORKING),
                        submitted("low-income", minutes=30,
                                  facts=PriorityFacts(low_income=True)),
                        freed("p1"))
    assert [p.request_id for p in matching.proposals()] == ["low-income"]


async def test_a_location_that_meets_its_share_follows_the_classes() -> None:
    matching = Matching()
    await matching.feed(located("loc-a", "income_related"), children_at("loc-a", 10, 3),
                        submitted("working", facts=WORKING),
                        submitted("low-income", minutes=30,
                                  facts=PriorityFacts(low_income=True)),
                        freed("p1"))
    assert [p.request_id for p in matching.proposals()] == ["working"]


async def test_local_rules_take_effect_when_the_index_is_computed_again() -> None:
    """The local council's rule (families of the location's municipality first, within
    a class) applies once the rekey job has computed the candidate keys again."""
    matching = Matching()
    await matching.feed(located("loc-a", "basic", municipality_nis="13008"),
                        submitted("elsewhere", facts=WORKING, municipality="11002"),
                        submitted("resident", minutes=30, facts=WORKING))
    matching.uow.area_settings.put(AREA, {"local_rules": {"classes": [{
        "name": "inwoners", "label": "woont in de gemeente van de opvang",
        "any_of": ["lives_in_location_municipality"]}]}}, NOW - timedelta(hours=1))
    assert await matching.app.state.jobs["rekey"]() == 2
    assert await matching.app.state.jobs["rekey"]() == 0  # nothing changed since
    await matching.feed(freed("p1"))
    [offer] = matching.proposals()
    assert offer.request_id == "resident"
    assert "lokale regel: woont in de gemeente van de opvang" in offer.ordering


async def test_a_new_areas_requests_are_keyed_under_the_rules_in_force_once() -> None:
    """Its first requests record the rules their keys follow: the rekey job has nothing
    to compute again until the rules change."""
    matching = Matching()
    await matching.feed(located("loc-a", "basic"), submitted("r1", facts=WORKING),
                        submitted("r2", minutes=30))
    assert await matching.app.state.jobs["rekey"]() == 0
    matching.uow.area_settings.put(AREA, {"lottery_seed": 7}, NOW - timedelta(hours=1))
    assert await matching.app.state.jobs["rekey"]() == 2


async def test_an_area_that_allocates_in_rounds_offers_at_the_round_not_before() -> None:
    matching = Matching()
    matching.uow.area_settings.put(AREA, {"allocation": "rounds"}, NOW - timedelta(days=1))
    await matching.feed(located("loc-a", "income_related"), located("loc-b", "basic"),
                        submitted("r1", locations=("loc-a", "loc-b"), facts=WORKING),
                        submitted("r2", minutes=1, locations=("loc-a",)),
                        submitted("r3", minutes=2, locations=("loc-b", "loc-a"),
                                  facts=THREE_FACTS),
                        freed("p-a"), freed("p-b", location_id="loc-b"))
    assert matching.proposals() == []
    async with matching.client() as client:
        run = await client.post(f"/service-areas/{AREA}/rounds", json={
            "period_from": str(START), "period_to": str(START + timedelta(days=90)),
            "lottery_seed": 42})
        assert run.status_code == 201, run.text
        found = run.json()
        assert matching.proposals() == []  # measured before anyone answers
        published = await client.post(
            f"/service-areas/{AREA}/rounds/{found['round_id']}/publish")
        again = await client.post(
            f"/service-areas/{AREA}/rounds/{found['round_id']}/publish")
    report = found["report"]
    assert report["deferred_acceptance"]["envy_pairs"] == 0
    assert report["deferred_acceptance"]["placed"] == 2
    assert set(report["first_come_first_served"]) == set(report["deferred_acceptance"])
    assert (found["lottery_seed"], found["rule_sets"]) == (42, ["vlaanderen-2025"])
    assert published.status_code == 200 and published.json()["offers_made"] == 2
    assert again.status_code == 409
    offers = {(p.request_id, p.place_id, p.round_id) for p in matching.proposals()}
    # r1 (working) takes its first choice at loc-a; r3 its first choice at loc-b
    assert offers == {("r1", "p-a", found["round_id"]), ("r3", "p-b", found["round_id"])}


async def test_a_crisis_request_is_matched_at_once_even_in_an_area_with_rounds() -> None:
    matching = Matching()
    matching.uow.area_settings.put(AREA, {"allocation": "rounds"}, NOW - timedelta(days=1))
    await matching.feed(freed("p1"), submitted("crisis", urgency="crisis"))
    assert [p.request_id for p in matching.proposals()] == ["crisis"]


async def test_a_round_with_a_period_ending_before_it_starts_names_the_field() -> None:
    matching = Matching()
    async with matching.client() as client:
        response = await client.post(f"/service-areas/{AREA}/rounds", json={
            "period_from": "2027-09-01", "period_to": "2027-08-01"})
    assert response.status_code == 422
    assert "period_to" in response.text


async def test_the_rules_are_listed_and_shown_to_anyone() -> None:
    matching = Matching()
    async with matching.client() as client:
        listed = await client.get("/rule-sets")
        shown = await client.get("/rule-sets/vlaanderen-2024")
        area = await client.get(f"/service-areas/{AREA}/rules", params={"on": "2024-09-01"})
        missing = await client.get("/rule-sets/vlaanderen-1999")
    assert [r["id"] for r in listed.json()] == [
        "vlaanderen-2014", "vlaanderen-2024", "vlaanderen-2025"]
    assert shown.json()["tiers"]["plus"]["required_share"] == 0.3
    assert shown.json()["earlier_registrations_keep"] == "vlaanderen-2014"
    assert (area.json()["rule_set"]["id"], area.json()["earlier_registrations_keep"]["id"]) == (
        "vlaanderen-2024", "vlaanderen-2014")
    assert missing.status_code == 404


# --- no place is offered twice, whatever arrives in whatever order --------------------------

REQUESTS = [f"r{i}" for i in range(5)]
PLACES = [f"p{i}" for i in range(4)]
LOCATIONS = ("loc-a", "loc-b")


def an_event(kind: str, index: int, tier: str) -> EventData:
    if kind == "request":
        return submitted(REQUESTS[index % len(REQUESTS)], minutes=index,
                         locations=LOCATIONS[index % 2:] + LOCATIONS[:index % 2],
                         facts=PriorityFacts(low_income=index % 3 == 0,
                                             parents_working_or_training=index % 2 == 0),
                         urgency="crisis" if index == 7 else "normal")
    if kind == "place":
        return freed(PLACES[index % len(PLACES)], location_id=LOCATIONS[index % 2])
    if kind == "assessed":
        return assessed(REQUESTS[index % len(REQUESTS)], vulnerable=True, urgent=index % 2 == 0)
    if kind == "enrolments":
        return children_at(LOCATIONS[index % 2], 5 + index, index % 3)
    return located(LOCATIONS[index % 2], tier)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(
    st.sampled_from(["request", "place", "assessed", "enrolments", "location"]),
    st.integers(min_value=0, max_value=9),
    st.sampled_from(["basic", "income_related", "plus", "free_price"])),
    min_size=1, max_size=14))
async def test_no_place_is_offered_twice(events: list[tuple[str, int, str]]) -> None:
    matching = Matching()
    await matching.feed(*(an_event(kind, index, tier) for kind, index, tier in events))
    assert matching.dead_letters.sent == []
    offered = [p.place_id for p in matching.proposals()]
    assert len(offered) == len(set(offered))
    for request_id in {p.request_id for p in matching.proposals()}:
        # a request holding an offer is offered again only at a location it ranks higher
        request = matching.uow.requests.rows[request_id]
        ranks = [request.rank(p.location_id) for p in matching.proposals()
                 if p.request_id == request_id]
        assert ranks == sorted(set(ranks), reverse=True)
