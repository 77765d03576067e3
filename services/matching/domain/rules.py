"""Priority rules as versioned data: which rule set applies, and where a request ranks.

The law changes (1 April 2024; annulled on 30 April 2025), so the rules are data
(`services/matching/rule_sets/*.json`), not code. A rule set has an effective
period and, per subsidy tier, ordered priority classes: a request belongs to the
first class whose facts it has. Where crisis requests and staff-granted urgency
rank is part of the rule set too. A service area adds local rules agreed in its
local childcare council (LOK) in its area settings; they order requests within a
legal class and never across one.

A request's standing at a location, best first:
  1. its band: its class, or the class its urgency lifts it to (`crisis_before_class`,
     `urgent_before_class`), so a class above that point is never overtaken;
  2. urgency (crisis, urgent, normal) within the band;
  3. its legal class; 4. its local class;
  5. the tie-breakers in the rule set's order: registration time, a lottery number
     drawn from a recorded seed; then the request id, so the order is total.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from contracts.events.capacity import SubsidyTier

Fact = Literal[
    "work_or_training",  # parents work, look for work, train or follow inburgering
    "work_four_fifths",  # parents work or train at least 4/5 on average
    "single_parent",
    "low_income",
    "foster_child",
    "vulnerable",  # assessed by loket staff: 2 of 5 characteristics, one of the first 3
    "sibling_at_location",  # a brother or sister already goes to this location
    "lives_in_location_municipality",  # for local rules: the family lives where the location is
]
Urgency = Literal["normal", "urgent", "crisis"]
TieBreaker = Literal["registered_at", "lottery"]
URGENCY_ORDER: dict[str, int] = {"crisis": 0, "urgent": 1, "normal": 2}
RULE_SETS_DIR = Path(__file__).parent.parent / "rule_sets"


class PriorityClass(BaseModel):
    """One class: a request with any of `any_of` (and all of `all_of`) belongs to it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]+$", max_length=64)
    label: str = Field(min_length=1, max_length=200, description="In Dutch, for families.")
    any_of: tuple[Fact, ...] = ()
    all_of: tuple[Fact, ...] = ()

    @model_validator(mode="after")
    def _has_facts(self) -> PriorityClass:
        if not self.any_of and not self.all_of:
            raise ValueError(f"class {self.name!r} names no facts")
        return self

    def holds(self, facts: frozenset[str]) -> bool:
        return (all(f in facts for f in self.all_of)
                and (not self.any_of or any(f in facts for f in self.any_of)))


class TierRules(BaseModel):
    """The rules for locations of one subsidy tier."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    classes: tuple[PriorityClass, ...] = ()
    required_share: float = Field(
        default=0.0, ge=0, le=1,
        description="The least share of the location's children from the priority group.")
    deviation_share: float = Field(
        default=0.0, ge=0, le=1,
        description="The share of places that may deviate on advice of a family-support body.")
    crisis_before_class: int = Field(
        default=0, ge=0, description="A crisis request ranks just above this class "
        "(0: above every class) and first within any class above it.")
    urgent_before_class: int = Field(
        default=0, ge=0, description="The same for urgency granted by loket staff.")


class RuleSet(BaseModel):
    """One version of the priority rules, in force over a period of decision dates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9-]+$", max_length=64)
    title: str = Field(description="In Dutch.")
    source: str = Field(description="The legal text it follows.")
    effective_from: date
    effective_until: date | None = None  # exclusive
    earlier_registrations_keep: str | None = Field(
        default=None, description="Requests registered before `effective_from` keep this "
        "rule set (the 2024 transition).")
    priority_group: tuple[Fact, ...] = Field(
        description="Facts that make a child count towards a location's required share.")
    tie_breakers: tuple[TieBreaker, ...] = ("registered_at", "lottery")
    tiers: dict[SubsidyTier, TierRules]

    def in_force_on(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_until is None or day < self.effective_until)


class LocalRules(BaseModel):
    """Rules a service area's local childcare council added: classes that order
    requests within one legal class. Part of the area's settings (versioned, changed
    only by the loket administrator)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agreed_on: date | None = Field(default=None, description="The council's decision.")
    classes: tuple[PriorityClass, ...] = ()


class Standing(BaseModel):
    """Where one request ranks at one location under one rule set, and why."""

    model_config = ConfigDict(frozen=True)

    rule_set_id: str
    tier: SubsidyTier
    priority_class: str  # the class name, or "none"
    local_class: str | None
    priority_group: bool
    key: tuple[int | str, ...]
    reasons: tuple[str, ...]  # in Dutch, for staff explaining the rank to a family

    def sentence(self) -> str:
        """One sentence a loket employee can read to a family."""
        return "; ".join(self.reasons) + "."

    def sort_key(self) -> str:
        """The key as text that sorts the same way (for a database index)."""
        return "|".join(f"{part:08d}" if isinstance(part, int) else part for part in self.key)


# --- the catalogue -------------------------------------------------------------------------


@cache
def shipped_rule_sets() -> tuple[RuleSet, ...]:
    """The legal rule sets shipped with the service, oldest first."""
    found = [RuleSet.model_validate(json.loads(path.read_text(encoding="utf-8")))
             for path in sorted(RULE_SETS_DIR.glob("*.json"))]
    return check_catalogue(found)


def check_catalogue(rule_sets: Iterable[RuleSet]) -> tuple[RuleSet, ...]:
    """Refuses a catalogue with overlapping periods, gaps or unknown references."""
    ordered = tuple(sorted(rule_sets, key=lambda rs: rs.effective_from))
    ids = {rs.id for rs in ordered}
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.effective_until != later.effective_from:
            raise ValueError(f"rule sets {earlier.id} and {later.id} do not meet")
    for rule_set in ordered:
        if rule_set.earlier_registrations_keep not in (None, *ids):
            raise ValueError(f"{rule_set.id}: unknown rule set "
                             f"{rule_set.earlier_registrations_keep}")
    return ordered


def rule_set_by_id(rule_set_id: str, catalogue: Sequence[RuleSet] | None = None) -> RuleSet:
    for rule_set in catalogue or shipped_rule_sets():
        if rule_set.id == rule_set_id:
            return rule_set
    raise KeyError(rule_set_id)


def rule_set_for(decision: date, registered: date,
                 catalogue: Sequence[RuleSet] | None = None) -> RuleSet:
    """The rule set a request is judged by when an offer is decided on `decision`:
    the one in force that day, unless that one lets requests registered before it
    keep an earlier one. Decisions before the first rule set take the first."""
    ordered = tuple(catalogue or shipped_rule_sets())
    in_force = next((rs for rs in ordered if rs.in_force_on(decision)), ordered[0])
    if in_force.earlier_registrations_keep and registered < in_force.effective_from:
        return rule_set_by_id(in_force.earlier_registrations_keep, ordered)
    return in_force


# --- ranking -------------------------------------------------------------------------------


def lottery_number(seed: int, request_id: str) -> str:
    """The request's lottery draw: the same seed always draws the same numbers."""
    return hashlib.sha256(f"{seed}:{request_id}".encode()).hexdigest()[:16]


def classes_of(rules: TierRules, local: LocalRules, facts: frozenset[str]
               ) -> tuple[PriorityClass | None, PriorityClass | None, int, int]:
    """The legal and the local class a request with `facts` belongs to, and their indexes
    (past the end: none)."""
    legal = next(((i, c) for i, c in enumerate(rules.classes) if c.holds(facts)),
                 (len(rules.classes), None))
    local_found = next(((i, c) for i, c in enumerate(local.classes) if c.holds(facts)),
                       (len(local.classes), None))
    return legal[1], local_found[1], legal[0], local_found[0]


def rank_key(rule_set: RuleSet, tier: SubsidyTier, local: LocalRules, facts: frozenset[str],
             urgency: Urgency, registered_at: datetime, request_id: str,
             lottery_seed: int) -> tuple[int | str, ...]:
    """Where a request with `facts` (at this location) ranks under `rule_set`: lower
    first (see the module docstring)."""
    rules = rule_set.tiers[tier]
    _, _, class_index, local_index = classes_of(rules, local, facts)
    lifted_to = {"crisis": rules.crisis_before_class, "urgent": rules.urgent_before_class}
    band = min(class_index, lifted_to.get(urgency, class_index))
    ties: dict[TieBreaker, str] = {
        "registered_at": registered_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f"),
        "lottery": lottery_number(lottery_seed, request_id),
    }
    return (band, URGENCY_ORDER[urgency], class_index, local_index,
            *(ties[name] for name in rule_set.tie_breakers), request_id)


def standing(rule_set: RuleSet, tier: SubsidyTier, local: LocalRules, facts: frozenset[str],
             urgency: Urgency, registered_at: datetime, request_id: str,
             lottery_seed: int) -> Standing:
    """Where a request ranks, with its class and the reasons a family is told."""
    found, local_found, class_index, _ = classes_of(rule_set.tiers[tier], local, facts)
    reasons = [f"regels '{rule_set.title}' ({tier_label(tier)})"]
    if urgency == "crisis":
        reasons.append("crisisvraag: de opvang van het kind sloot")
    elif urgency == "urgent":
        reasons.append("dringende vraag, toegekend door het loket")
    reasons.append(f"voorranggroep {class_index + 1}: {found.label}" if found
                   else "geen voorranggroep")
    if local_found:
        reasons.append(f"lokale regel: {local_found.label}")
    reasons.append(f"ingeschreven op {registered_at.date().isoformat()}")
    return Standing(
        rule_set_id=rule_set.id, tier=tier, priority_class=found.name if found else "none",
        local_class=local_found.name if local_found else None,
        priority_group=any(f in facts for f in rule_set.priority_group),
        key=rank_key(rule_set, tier, local, facts, urgency, registered_at, request_id,
                     lottery_seed),
        reasons=tuple(reasons))


def tier_label(tier: SubsidyTier) -> str:
    return {"basic": "basissubsidie", "income_related": "inkomenstarief",
            "plus": "plussubsidie", "free_price": "vrije prijs"}[tier]
