"""The priority rules of one service area at one decision date, applied to requests.

A `Ranking` answers, for a request at a location: which rule set judges it (by the
decision date and the request's registration date), its standing (class, reasons,
sort key) and whether it counts towards the location's required share; and, for a
location, whether its next place is reserved for a priority-group child because
the location falls short of its required share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.model import KnownLocation, WaitingRequest, facts_at
from services.matching.domain.rules import (
    RuleSet,
    Standing,
    rank_key,
    rule_set_for,
    shipped_rule_sets,
    standing,
)


@dataclass(frozen=True)
class CandidateKey:
    """What the candidate index stores per (request, location)."""

    sort_key: str
    priority_group: bool


class Ranking:
    def __init__(self, decision: date, settings: OfferSettings,
                 catalogue: tuple[RuleSet, ...] | None = None,
                 lottery_seed: int | None = None) -> None:
        self.decision = decision
        self.settings = settings
        self.catalogue = catalogue or shipped_rule_sets()
        self.lottery_seed = settings.lottery_seed if lottery_seed is None else lottery_seed
        self._basis: str | None = None

    def rule_set(self, request: WaitingRequest) -> RuleSet:
        return rule_set_for(self.decision, request.submitted_at.date(), self.catalogue)

    def basis(self) -> str:
        """What the keys depend on besides the requests and locations: when it changes
        (a new rule set comes into force, the area changes its local rules or seed), the
        candidate index is computed again."""
        if self._basis is None:  # (asked for each request keyed)
            in_force = rule_set_for(self.decision, self.decision, self.catalogue)
            local = self.settings.local_rules.model_dump_json()
            self._basis = (f"{in_force.id}|{in_force.earlier_registrations_keep}|"
                           f"{self.lottery_seed}|{local}")
        return self._basis

    def standing(self, request: WaitingRequest, location: KnownLocation) -> Standing:
        return standing(self.rule_set(request), location.subsidy_tier,
                        self.settings.local_rules, facts_at(request, location),
                        request.urgency, request.submitted_at, request.request_id,
                        self.lottery_seed)

    def key(self, request: WaitingRequest, location: KnownLocation) -> tuple[int | str, ...]:
        """`standing(...).key` without the reasons: the fast path of a round."""
        return rank_key(self.rule_set(request), location.subsidy_tier,
                        self.settings.local_rules, facts_at(request, location),
                        request.urgency, request.submitted_at, request.request_id,
                        self.lottery_seed)

    def candidate_key(self, request: WaitingRequest, location: KnownLocation) -> CandidateKey:
        found = self.standing(request, location)
        return CandidateKey(found.sort_key(), found.priority_group)

    def required_share(self, location: KnownLocation) -> float:
        in_force = rule_set_for(self.decision, self.decision, self.catalogue)
        return in_force.tiers[location.subsidy_tier].required_share

    def reserves_next_place(self, location: KnownLocation) -> bool:
        """The location falls short of its required share even with one more child:
        its next place goes to a priority-group child first. A location whose children
        the loket does not know (its organiser declared none) reserves nothing: its share
        cannot be judged."""
        share = Fraction(self.required_share(location)).limit_denominator(1000)
        return (share > 0 and location.enrolled > 0
                and location.priority_enrolled < share * (location.enrolled + 1))
