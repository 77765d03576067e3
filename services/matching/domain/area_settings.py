"""Matching's rules per service area, stored as versioned data (loketkit.area_settings).

The version in force when an offer is made sets its deadlines, so a later change
never moves the deadline of an offer already made. Only the loket administrator
changes them (audited): the offer deadlines, partial fits, the crisis window, how
the area allocates (continuously or in rounds), the lottery seed of continuous
matching, and the local rules its local childcare council agreed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loketkit.calendar import Period
from services.matching.domain.rules import LocalRules


class OfferSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    family_answer: Period = Field(
        default=Period(working_days=5),
        description="The family answers an offer within this, or the offer expires.")
    organiser_answer: Period = Field(
        default=Period(working_days=10),
        description="The organiser answers within this, or is reminded (the place is kept).")
    family_reminder_before: Period = Field(
        default=Period(working_days=1),
        description="The family is reminded this long before its deadline.")
    partial_fit_allowed: bool = Field(
        default=False,
        description="Places covering only part of the asked day-parts may be offered to "
        "families that accept a partial fit.")
    partial_fit_min_share: float = Field(
        default=0.5, gt=0, le=1,
        description="The least share of the asked day-parts a partial fit covers.")
    crisis_window_days: int = Field(
        default=31, ge=0, le=366,
        description="A crisis request takes a place starting at the latest this many days "
        "after the closure's effective date.")
    allocation: Literal["continuous", "rounds"] = Field(
        default="continuous",
        description="continuous: a freed place or a new request is matched at once. rounds: "
        "they wait for the area's next allocation round (crisis requests are still matched "
        "at once, and a place an offer gave back passes on at once).")
    lottery_seed: int = Field(
        default=20250430, ge=0, le=2**62,
        description="Seed of the lottery that breaks ties in continuous matching (a round "
        "records its own); recorded with every offer.")
    local_rules: LocalRules = Field(
        default_factory=LocalRules,
        description="Classes agreed in the local childcare council: they order requests "
        "within one legal priority class, never across one.")
