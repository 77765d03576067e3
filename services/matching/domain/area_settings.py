"""Offer rules per service area, stored as versioned data (loketkit.area_settings).

The version in force when an offer is made sets its deadlines, so a later change
never moves the deadline of an offer already made.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from loketkit.calendar import Period


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
