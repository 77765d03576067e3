"""Events about offers, published by matching.

Matching speaks for offers: it proposes a place to a request, fires the answer
deadlines it stores with each offer (exactly once, from its database), and ends
offers that can no longer be taken.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import ClassVar, Literal

from pydantic import Field

from contracts.events.base import ID, NIS_CODE, EventData
from contracts.events.requests import Urgency
from contracts.schedule import FULL_WEEK, DayParts
from contracts.topics import MATCHES, TopicSpec

Fit = Literal["full", "partial"]
CancelReason = Literal[
    "place_withdrawn", "location_closed", "request_withdrawn", "request_expired",
    "request_updated", "placed_elsewhere", "accepted_other_offer",
]
ORDERING = Field(max_length=300, description="Why this request came first, for audit.")


class _Offer(EventData):
    """What every event about one offer names."""

    SUBJECT_FIELD: ClassVar[str] = "request_id"

    match_id: str = ID
    request_id: str = ID
    place_id: str = ID
    location_id: str = ID
    location_municipality_nis: str = NIS_CODE
    request_municipality_nis: str = NIS_CODE


class MatchProposed(_Offer):
    """An offer of one free place to one request, with both answer deadlines."""

    NAME: ClassVar[str] = "MatchProposed"
    VERSION: ClassVar[int] = 2
    TOPIC: ClassVar[TopicSpec] = MATCHES

    urgency: Urgency
    ordering: str = ORDERING
    start_date: date = Field(description="The place's first day.")
    day_parts: DayParts = Field(description="The day-parts the place covers.")
    requested_day_parts: DayParts = Field(description="The day-parts the family asked for.")
    fit: Fit = "full"
    priority_group: bool = False
    # Added compatibly (issue 8): the rule set that ranked the request and its class there.
    rule_set: str | None = Field(default=None, max_length=64,
                                 description="The priority rule set the offer was decided by.")
    priority_class: str | None = Field(
        default=None, max_length=64,
        description="The request's priority class under that rule set ('none': no class).")
    round_id: str | None = Field(
        default=None, max_length=64, description="The allocation round that made the offer.")
    family_answer_due: datetime = Field(
        description="The family answers by then, or the offer expires and the place passes on."
    )
    organiser_answer_due: datetime = Field(
        description="The organiser answers by then, or is reminded (the place is not lost)."
    )
    proposed_at: datetime


class MatchProposedV1(_Offer):
    """An offer as first published: no deadlines and no day-parts."""

    NAME: ClassVar[str] = "MatchProposed"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = MATCHES

    urgency: Urgency
    ordering: str = ORDERING
    proposed_at: datetime

    def upgraded(self) -> EventData:
        """v1 offers had no deadlines: they get a week for the family, two for the organiser."""
        return MatchProposed(
            **self.model_dump(),
            start_date=self.proposed_at.date(),
            day_parts=list(FULL_WEEK),
            requested_day_parts=list(FULL_WEEK),
            family_answer_due=self.proposed_at + timedelta(days=7),
            organiser_answer_due=self.proposed_at + timedelta(days=14),
        )


class MatchExpired(_Offer):
    """The family did not answer by its deadline: the place passes to the next candidate."""

    NAME: ClassVar[str] = "MatchExpired"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = MATCHES

    family_answer_due: datetime
    expired_at: datetime


class MatchCancelled(_Offer):
    """An offer ended without an answer deciding it (the place was withdrawn, the location
    closed, the request was withdrawn, expired or changed, or the child was placed)."""

    NAME: ClassVar[str] = "MatchCancelled"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = MATCHES

    reason: CancelReason
    cancelled_at: datetime


class MatchReminderDue(_Offer):
    """Someone must still answer an offer: the family before its deadline, or an organiser
    past its own (the place is kept; the offer appears on the loket's worklist)."""

    NAME: ClassVar[str] = "MatchReminderDue"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = MATCHES

    addressee: Literal["family", "organiser"]
    answer_due: datetime
    reminded_at: datetime
