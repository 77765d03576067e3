"""Every event payload, and the registry that maps a CloudEvents type to its model."""

from __future__ import annotations

from contracts.events.base import EventData
from contracts.events.capacity import CrisisClosure, LocationRegistered, PlaceFreed
from contracts.events.matching import MatchProposed
from contracts.events.requests import PriorityFacts, RequestSubmitted, RequestWithdrawn

ALL_EVENTS: tuple[type[EventData], ...] = (
    RequestSubmitted,
    RequestWithdrawn,
    LocationRegistered,
    PlaceFreed,
    CrisisClosure,
    MatchProposed,
)
# Events that organisers' own systems may publish on loket.capacity.inbound.v1.
ORGANISER_INBOUND: tuple[type[EventData], ...] = (PlaceFreed,)
BY_TYPE: dict[str, type[EventData]] = {model.event_type(): model for model in ALL_EVENTS}

__all__ = [
    "ALL_EVENTS",
    "BY_TYPE",
    "ORGANISER_INBOUND",
    "CrisisClosure",
    "EventData",
    "LocationRegistered",
    "MatchProposed",
    "PlaceFreed",
    "PriorityFacts",
    "RequestSubmitted",
    "RequestWithdrawn",
]
