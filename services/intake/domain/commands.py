"""What the routes ask intake to do. Ids and timestamps are the handlers' to make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from contracts.schedule import DayPart
from services.intake.domain.model import (
    AnsweredBy,
    Child,
    Contact,
    Priority,
    UrgencyDecision,
    Vulnerability,
)


class Keep(Enum):
    """An UpdateRequest field left as it is, where None is a value of its own."""

    KEEP = "keep"


@dataclass(frozen=True)
class SubmitRequest:
    child: Child
    contact: Contact
    municipality_nis: str
    neighbourhood_code: str | None
    desired_start_date: date
    day_parts: tuple[DayPart, ...]
    # The family's own ranked choices (may be empty when it gives max_distance_km).
    preferred_location_ids: tuple[str, ...]
    priority: Priority
    # Also any open location of the area within this distance of the family's
    # postcode (km, straight line); None: only the named choices. Never published.
    max_distance_km: float | None = None
    # The family asks for urgency, with its reason: loket staff decide (AssessRequest).
    urgency_reason: str | None = None
    # The family swears to its priority facts (required when it declares any).
    sworn_statement: bool = False
    accepts_partial_fit: bool = False
    share_contact_with_organiser: bool = False
    owner_subject: str | None = None  # a signed-in parent registering their own


@dataclass(frozen=True)
class HandOverPersonalLink:
    """Loket staff give the family a new personal link; earlier ones stop working."""

    request_id: str


@dataclass(frozen=True)
class RevokePersonalLinks:
    """The family (or staff) stops every personal link of the request."""

    request_id: str


@dataclass(frozen=True)
class WithdrawRequest:
    request_id: str


@dataclass(frozen=True)
class ErasePersonalData:
    request_id: str


@dataclass(frozen=True)
class UpdateRequest:
    """Only the given fields change (None keeps the current value; for
    `max_distance_km` None means "only the named choices", and `Keep.KEEP` keeps it).
    The distance is applied again at every change, to the locations open then."""

    request_id: str
    desired_start_date: date | None = None
    day_parts: tuple[DayPart, ...] | None = None
    accepts_partial_fit: bool | None = None
    preferred_location_ids: tuple[str, ...] | None = None  # the family's own
    max_distance_km: float | None | Keep = Keep.KEEP


@dataclass(frozen=True)
class LinkSiblings:
    request_id: str
    sibling_request_id: str


@dataclass(frozen=True)
class ConfirmRequest:
    request_id: str


@dataclass(frozen=True)
class AnswerOffer:
    request_id: str
    match_id: str
    accept: bool
    keep_waiting_for_higher_choices: bool = False
    answered_by: AnsweredBy = "family"
    staff_member: str | None = None


@dataclass(frozen=True)
class AssessRequest:
    """Loket staff assess what needs a judgement: the family's vulnerability
    characteristics, and (if `urgency` is given) grant or refuse urgency, with a reason."""

    request_id: str
    vulnerability: Vulnerability
    urgency: UrgencyDecision | None = None
    urgency_reason: str | None = None
    staff_member: str | None = None  # who assessed, for the request's audit log


@dataclass(frozen=True)
class ImportedRequest:
    """One row of an imported waiting list: a request with its original date. An urgent
    row is urgency granted by the importing staff (the old list's judgement)."""

    line: int
    request: SubmitRequest
    registered_at: datetime
    urgency_granted: bool = False


@dataclass(frozen=True)
class ImportWaitingList:
    rows: tuple[ImportedRequest, ...]
    imported_by: str | None = None
