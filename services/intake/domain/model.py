"""A childcare request and its life: submitted, proposed, withdrawn or replaced.

Pure rules, no I/O. The personal details live here and in intake's database
only; `handlers.submitted_event` picks what may leave the service (pseudonymous).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from loketkit.errors import Conflict, Invalid

Urgency = Literal["normal", "urgent", "crisis"]
ERASED = "(gewist)"


class Status(StrEnum):
    SUBMITTED = "submitted"
    PROPOSED = "proposed"
    WITHDRAWN = "withdrawn"
    REPLACED = "replaced_after_closure"


class RequestRuleError(Invalid):
    """A rule refused the request (422); `field` names the input at fault."""


class RequestClosed(Conflict):
    """The request is already withdrawn or replaced (409)."""


@dataclass(frozen=True)
class Child:
    first_name: str
    last_name: str
    birth_date: date
    national_number: str | None = None


@dataclass(frozen=True)
class Contact:
    parent_name: str
    email: str | None
    phone: str | None
    street: str | None
    postcode: str


@dataclass(frozen=True)
class Priority:
    parents_working_or_training: bool = False
    single_parent: bool = False
    low_income: bool = False
    foster_child: bool = False
    sibling_location_ids: tuple[str, ...] = ()


@dataclass
class Request:
    request_id: str
    service_area: str
    child: Child
    contact: Contact
    municipality_nis: str
    neighbourhood_code: str | None
    desired_start_date: date
    days_per_week: int
    preferred_location_ids: tuple[str, ...]
    priority: Priority
    urgency: Urgency
    submitted_at: datetime
    status: Status = Status.SUBMITTED
    replaces_request_id: str | None = None
    replaced_by_request_id: str | None = None
    erased_at: datetime | None = None
    match_id: str | None = None
    proposed_location_id: str | None = None
    proposed_place_id: str | None = None

    @property
    def birth_month(self) -> str:
        return self.child.birth_date.strftime("%Y-%m")

    def propose(self, match_id: str, location_id: str, place_id: str) -> bool:
        """Record matching's proposal; False when the request is no longer open."""
        if self.status is not Status.SUBMITTED:
            return False
        self.status = Status.PROPOSED
        self.match_id, self.proposed_location_id, self.proposed_place_id = (
            match_id, location_id, place_id
        )
        return True

    def withdraw(self) -> None:
        if self.status in (Status.WITHDRAWN, Status.REPLACED):
            raise RequestClosed("request_id", f"request is already {self.status.value}")
        self.status = Status.WITHDRAWN

    def erase_personal_data(self, now: datetime) -> bool:
        """The family's right to erasure: names, national number and contact details go;
        the birth date keeps only its month (what the figures need). Returns whether the
        request was still open, and so must be withdrawn too."""
        was_open = self.status in (Status.SUBMITTED, Status.PROPOSED)
        if was_open:
            self.status = Status.WITHDRAWN
        self.child = Child(ERASED, ERASED, self.child.birth_date.replace(day=1))
        self.contact = Contact(ERASED, None, None, None, self.contact.postcode)
        self.erased_at = now
        return was_open

    def replace_after_closure(
        self, new_id: str, choices: tuple[str, ...], now: datetime
    ) -> Request:
        """The closed location's child gets a new, crisis-urgent request for `choices`
        (see `locations.crisis_choices`)."""
        self.status = Status.REPLACED
        self.replaced_by_request_id = new_id
        return replace(
            self,
            request_id=new_id,
            preferred_location_ids=choices,
            urgency="crisis",
            submitted_at=now,
            status=Status.SUBMITTED,
            replaces_request_id=self.request_id,
            replaced_by_request_id=None,
            erased_at=None,
            match_id=None,
            proposed_location_id=None,
            proposed_place_id=None,
        )


def check_new_request(
    request: Request, area_municipalities: frozenset[str], known_locations: set[str]
) -> None:
    if request.municipality_nis not in area_municipalities:
        raise RequestRuleError(
            "municipality_nis",
            f"municipality {request.municipality_nis} is not served by this loket",
        )
    unknown = [loc for loc in request.preferred_location_ids if loc not in known_locations]
    if unknown:
        raise RequestRuleError(
            "preferred_location_ids", f"unknown or closed locations: {', '.join(unknown)}"
        )
    if request.desired_start_date < request.child.birth_date:
        raise RequestRuleError("desired_start_date", "must not be before the birth date")
    age_months = months_between(request.child.birth_date, request.desired_start_date)
    if age_months >= 36:
        raise RequestRuleError("desired_start_date", "the child is 3 or older at that date")


def months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def child_reference(key: bytes, child: Child) -> str:
    """Keyed HMAC: stable per child, meaningless without the key (which stays in intake)."""
    identity = child.national_number or (
        f"{child.first_name.strip().lower()}|{child.last_name.strip().lower()}|{child.birth_date}"
    )
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()
