"""Intake's per-service-area rules, stored as versioned data (loketkit.area_settings)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from loketkit.calendar import Period


class RequestSettings(BaseModel):
    """How often a waiting family must confirm its request, and how long it has to."""

    model_config = ConfigDict(extra="forbid")

    confirm_every: Period = Field(
        default_factory=lambda: Period(days=91),
        description="Ask a waiting family to confirm this long after its last confirmation "
        "(or registration).",
    )
    confirm_within: Period = Field(
        default_factory=lambda: Period(days=30),
        description="Without a confirmation this long after asking, the request expires.",
    )
