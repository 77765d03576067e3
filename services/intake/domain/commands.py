"""What the routes ask intake to do. Ids and timestamps are the handlers' to make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.intake.domain.model import Child, Contact, Priority


@dataclass(frozen=True)
class SubmitRequest:
    child: Child
    contact: Contact
    municipality_nis: str
    neighbourhood_code: str | None
    desired_start_date: date
    days_per_week: int
    preferred_location_ids: tuple[str, ...]
    priority: Priority
    urgency: Literal["normal", "urgent"] = "normal"


@dataclass(frozen=True)
class WithdrawRequest:
    request_id: str


@dataclass(frozen=True)
class ErasePersonalData:
    request_id: str
