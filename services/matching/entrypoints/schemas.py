"""Matching's public HTTP shapes (pseudonymous: ids, never names)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts.text import CleanInput
from services.matching.domain.rules import LocalRules, RuleSet


class QueuePublic(BaseModel):
    service_area: str
    requests: dict[str, int]  # status -> number; statuses with none are left out
    places: dict[str, int]


class OverdueOfferPublic(BaseModel):
    match_id: str
    request_id: str
    place_id: str
    location_id: str
    status: str
    organiser_answer_due: datetime
    days_overdue: int


class UrgentRequestPublic(BaseModel):
    request_id: str
    urgency: str
    submitted_at: datetime


class WorklistPublic(BaseModel):
    service_area: str
    organiser_overdue: list[OverdueOfferPublic]
    urgent_without_offer: list[UrgentRequestPublic]


class RuleSetSummary(BaseModel):
    id: str
    title: str
    effective_from: date
    effective_until: date | None
    earlier_registrations_keep: str | None


class AreaRulesPublic(BaseModel):
    """The rules that decide an offer made in the area on `decision_date`."""

    service_area: str
    decision_date: date
    rule_set: RuleSet
    earlier_registrations_keep: RuleSet | None
    local_rules: LocalRules
    crisis_window_days: int
    allocation: str


class RoundCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")
    period_from: date = Field(description="The first start date of the places it allocates.")
    period_to: date = Field(description="The last start date of the places it allocates.")
    decision_date: date | None = Field(
        default=None, description="The rules of this day apply (default: today).")
    lottery_seed: int | None = Field(
        default=None, ge=0, le=2**62,
        description="The seed of the lottery that breaks ties (default: drawn and recorded).")


class RoundPublic(BaseModel):
    round_id: str
    service_area: str
    decision_date: date
    period_from: date
    period_to: date
    lottery_seed: int
    rule_sets: list[str]
    report: dict[str, Any] = Field(description=(
        "deferred_acceptance and first_come_first_served: applicants, seats, placed, "
        "placement_rate, mean_rank, envy_pairs, quota_locations, quota_met (the same "
        "input); quota: per location; reserved_place_ids; assignments: the outcome."))
    run_at: datetime
    published_at: datetime | None
    offers_made: int
