"""Events about matches, published by matching."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field

from contracts.events.base import ID, NIS_CODE, EventData
from contracts.events.requests import Urgency
from contracts.topics import MATCHES, TopicSpec


class MatchProposed(EventData):
    NAME: ClassVar[str] = "MatchProposed"
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[TopicSpec] = MATCHES
    SUBJECT_FIELD: ClassVar[str] = "request_id"

    match_id: str = ID
    request_id: str = ID
    place_id: str = ID
    location_id: str = ID
    location_municipality_nis: str = NIS_CODE
    request_municipality_nis: str = NIS_CODE
    urgency: Urgency
    ordering: str = Field(max_length=300, description="Why this request came first, for audit.")
    proposed_at: datetime
