"""Matching's public HTTP shapes (pseudonymous: ids, never names)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


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
