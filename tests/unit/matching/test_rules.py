"""The priority rules as data: which rule set judges a request, and where it ranks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events.capacity import SubsidyTier
from services.matching.domain.rules import (
    LocalRules,
    PriorityClass,
    RuleSet,
    check_catalogue,
    rule_set_for,
    shipped_rule_sets,
    standing,
)

APRIL_2024 = date(2024, 4, 1)
ANNULMENT = date(2025, 4, 30)
T = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FAMILY_FACTS = ("work_or_training", "work_four_fifths", "single_parent", "low_income",
                "foster_child", "vulnerable", "sibling_at_location")
TIERS: tuple[SubsidyTier, ...] = get_args(SubsidyTier)
days = st.dates(min_value=date(2014, 4, 1), max_value=date(2030, 12, 31))
facts = st.frozensets(st.sampled_from(FAMILY_FACTS))


def rank(rule_set: RuleSet, tier: SubsidyTier, held: frozenset[str], *,
         urgency: str = "normal", registered: datetime = T, request_id: str = "r",
         local: LocalRules | None = None) -> tuple[int | str, ...]:
    return standing(rule_set, tier, local or LocalRules(), held, urgency,  # type: ignore[arg-type]
                    registered, request_id, lottery_seed=1).key


def test_the_shipped_rule_sets_cover_every_day_from_2014_without_gaps() -> None:
    found = shipped_rule_sets()
    assert [rs.id for rs in found] == ["vlaanderen-2014", "vlaanderen-2024", "vlaanderen-2025"]
    assert (found[0].effective_until, found[1].effective_from) == (APRIL_2024, APRIL_2024)
    assert (found[1].effective_until, found[2].effective_from) == (ANNULMENT, ANNULMENT)
    assert found[2].effective_until is None


def test_a_catalogue_with_a_gap_is_refused() -> None:
    first, _, last = shipped_rule_sets()
    with pytest.raises(ValueError, match="do not meet"):
        check_catalogue([first, last])


@given(decision=days, registered=days)
def test_the_rule_set_is_chosen_by_decision_date_and_within_2024_by_registration_date(
    decision: date, registered: date,
) -> None:
    chosen = rule_set_for(decision, registered).id
    if decision < APRIL_2024:
        assert chosen == "vlaanderen-2014"
    elif decision < ANNULMENT:
        # requests registered before 1 April 2024 kept the old rules
        assert chosen == ("vlaanderen-2014" if registered < APRIL_2024 else "vlaanderen-2024")
    else:
        assert chosen == "vlaanderen-2025"  # the pre-2024 rules again, for everyone


@given(tier=st.sampled_from(["basic", "income_related", "plus"]), working=facts,
       other=facts, urgency=st.sampled_from(["normal", "urgent", "crisis"]),
       decision=st.one_of(st.dates(max_value=APRIL_2024 - timedelta(days=1),
                                   min_value=date(2014, 4, 1)),
                          st.dates(min_value=ANNULMENT, max_value=date(2030, 1, 1))),
       earlier=st.booleans())
def test_under_the_pre_2024_rules_working_parents_outrank_any_family_outside_that_class(
    tier: SubsidyTier, working: frozenset[str], other: frozenset[str], urgency: str,
    decision: date, earlier: bool,
) -> None:
    """Absolute priority for parents who need care for work, job search, training or
    inburgering: within the same urgency, whatever else either family declares, and
    whoever registered first."""
    rule_set = rule_set_for(decision, decision)
    assert rule_set.id in ("vlaanderen-2014", "vlaanderen-2025")
    first = T - timedelta(days=300) if earlier else T
    works = rank(rule_set, tier, working | {"work_or_training"}, urgency=urgency,
                 registered=T, request_id="works")
    does_not = rank(rule_set, tier, other - {"work_or_training"}, urgency=urgency,
                    registered=first, request_id="other")
    assert works < does_not


def test_summing_facts_no_longer_beats_the_absolute_class() -> None:
    """The issue's first figure: single parent, low income and fostering does not outrank
    a working family under the rules in force."""
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 2, 1))
    working = rank(rule_set, "income_related", frozenset({"work_or_training"}),
                   registered=T + timedelta(days=30))
    three = rank(rule_set, "income_related",
                 frozenset({"single_parent", "low_income", "foster_child"}))
    assert working < three


def test_under_the_2024_rules_only_four_fifths_siblings_and_foster_children_come_first() -> None:
    rule_set = rule_set_for(date(2024, 9, 1), date(2024, 6, 1))
    assert rule_set.id == "vlaanderen-2024"
    four_fifths = rank(rule_set, "basic", frozenset({"work_four_fifths"}),
                       registered=T + timedelta(days=9))
    sibling = rank(rule_set, "basic", frozenset({"sibling_at_location"}),
                   registered=T + timedelta(days=9))
    part_time = rank(rule_set, "basic", frozenset({"work_or_training", "single_parent"}))
    assert four_fifths < part_time and sibling < part_time
    assert rule_set.tiers["plus"].deviation_share == pytest.approx(0.1)


@given(held=facts, other=facts, tier=st.sampled_from(TIERS))
def test_crisis_then_staff_granted_urgency_come_first_in_the_shipped_rules(
    held: frozenset[str], other: frozenset[str], tier: SubsidyTier,
) -> None:
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))
    crisis = rank(rule_set, tier, held, urgency="crisis", request_id="c")
    urgent = rank(rule_set, tier, held, urgency="urgent", request_id="u")
    normal = rank(rule_set, tier, other, request_id="n", registered=T - timedelta(days=999))
    assert crisis < urgent < normal


def test_where_urgency_ranks_is_part_of_the_rule_set() -> None:
    """A rule set may place staff-granted urgency below its first class: then an urgent
    request outranks only the classes below that point."""
    in_force = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))
    tier = in_force.tiers["basic"].model_copy(update={"urgent_before_class": 1})
    later = in_force.model_copy(update={"tiers": {**in_force.tiers, "basic": tier}})
    working = rank(later, "basic", frozenset({"work_or_training"}))
    urgent = rank(later, "basic", frozenset(), urgency="urgent",
                  registered=T - timedelta(days=99))
    nothing = rank(later, "basic", frozenset(), registered=T - timedelta(days=99))
    assert working < urgent < nothing


@given(held=facts, other=facts)
def test_free_price_locations_are_bound_by_no_priority_class(
    held: frozenset[str], other: frozenset[str],
) -> None:
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))
    earlier = rank(rule_set, "free_price", held, registered=T)
    later = rank(rule_set, "free_price", other, registered=T + timedelta(seconds=1))
    assert earlier < later


def test_the_required_shares_follow_the_subsidy_tiers() -> None:
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))
    shares = {tier: rule_set.tiers[tier].required_share for tier in TIERS}
    assert shares == {"basic": 0.0, "income_related": 0.2, "plus": 0.3, "free_price": 0.0}


def test_local_rules_order_requests_within_a_legal_class_never_across_one() -> None:
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))
    residents_first = LocalRules(classes=(PriorityClass(
        name="inwoners", label="woont in de gemeente van de opvang",
        any_of=("lives_in_location_municipality",)),))
    resident = frozenset({"lives_in_location_municipality"})
    key = {
        name: rank(rule_set, "basic", held, registered=T + timedelta(days=delay),
                   local=residents_first, request_id=name)
        for name, held, delay in (
            ("working", frozenset({"work_or_training"}), 9),
            ("working_resident", frozenset({"work_or_training"}) | resident, 10),
            ("resident", resident, 0), ("nobody", frozenset(), 0))}
    assert sorted(key, key=key.__getitem__) == [
        "working_resident", "working", "resident", "nobody"]


@settings(max_examples=50)
@given(seed=st.integers(min_value=0, max_value=2**62))
def test_equal_registration_times_are_broken_by_the_recorded_lottery_seed(seed: int) -> None:
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))

    def draw(request_id: str, with_seed: int) -> tuple[int | str, ...]:
        return standing(rule_set, "basic", LocalRules(), frozenset(), "normal", T,
                        request_id, with_seed).key

    ids = [f"r{i}" for i in range(8)]
    order = sorted(ids, key=lambda r: draw(r, seed))
    assert order == sorted(ids, key=lambda r: draw(r, seed))  # the same seed, the same order
    assert any(sorted(ids, key=lambda r: draw(r, s)) != order for s in range(seed + 1, seed + 6))


def test_the_standing_explains_itself_in_one_dutch_sentence() -> None:
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))
    found = standing(rule_set, "income_related", LocalRules(),
                     frozenset({"work_or_training", "single_parent"}), "normal", T, "r", 1)
    assert (found.rule_set_id, found.priority_class, found.priority_group) == (
        "vlaanderen-2025", "werk_en_voorrang", True)
    assert found.sentence() == (
        "regels 'voorrangsregels van voor 2024, opnieuw sinds 30 april 2025' "
        "(inkomenstarief); voorranggroep 1: ouders werken, zoeken werk, volgen opleiding of "
        "inburgering, met bijkomende voorrang; ingeschreven op 2026-01-05.")
    assert len(found.sentence()) <= 300


def test_the_sort_key_text_sorts_as_the_key() -> None:
    rule_set = rule_set_for(date(2026, 12, 3), date(2026, 1, 1))
    standings = [standing(rule_set, "plus", LocalRules(), frozenset(held), urgency,  # type: ignore[arg-type]
                          T + timedelta(days=d), f"r{i}", 3)
                 for i, (held, urgency, d) in enumerate([
                     ((), "normal", 0), (("work_or_training",), "normal", 5),
                     (("low_income",), "urgent", 9), ((), "crisis", 30),
                     (("work_or_training", "foster_child"), "normal", 1)])]
    assert (sorted(standings, key=lambda s: s.key)
            == sorted(standings, key=lambda s: s.sort_key()))
