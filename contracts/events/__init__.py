"""Every event payload, and the registry that maps a CloudEvents type to its model.

`CURRENT_EVENTS` are what services publish and handle. `OLDER_VERSIONS` are still
read (the topics keep their history, and organisers' systems may lag behind):
`contracts.parse_data` upgrades them to the current version on the way in.
"""

from __future__ import annotations

from contracts.events.base import EventData
from contracts.events.capacity import (
    CapacityDeclared,
    CrisisClosure,
    DeclaredEnrolment,
    EnrolmentEnded,
    EnrolmentsDeclared,
    LocationRegistered,
    MatchRefused,
    PlaceFreed,
    PlaceFreedV1,
    PlacementConfirmed,
    PlaceWithdrawn,
)
from contracts.events.matching import (
    MatchCancelled,
    MatchExpired,
    MatchProposed,
    MatchProposedV1,
    MatchReminderDue,
)
from contracts.events.requests import (
    MatchAccepted,
    MatchDeclined,
    PriorityFacts,
    RequestAssessed,
    RequestExpired,
    RequestSubmitted,
    RequestSubmittedV1,
    RequestUpdated,
    RequestWithdrawn,
)

CURRENT_EVENTS: tuple[type[EventData], ...] = (
    # intake, for families
    RequestSubmitted,
    RequestUpdated,
    RequestWithdrawn,
    RequestExpired,
    RequestAssessed,
    MatchAccepted,
    MatchDeclined,
    # capacity, for organisers
    LocationRegistered,
    CapacityDeclared,
    PlaceFreed,
    PlaceWithdrawn,
    PlacementConfirmed,
    MatchRefused,
    EnrolmentsDeclared,
    EnrolmentEnded,
    CrisisClosure,
    # matching, for offers
    MatchProposed,
    MatchExpired,
    MatchCancelled,
    MatchReminderDue,
)
OLDER_VERSIONS: tuple[type[EventData], ...] = (RequestSubmittedV1, PlaceFreedV1, MatchProposedV1)
ALL_EVENTS: tuple[type[EventData], ...] = CURRENT_EVENTS + OLDER_VERSIONS
# Events that organisers' own systems may publish on their own inbound topic,
# loket.capacity.inbound.v1.<organiser_id> (contracts.topics.ORGANISER_INBOUND_TOPICS).
ORGANISER_INBOUND: tuple[type[EventData], ...] = (
    PlaceFreed,
    PlaceFreedV1,
    PlaceWithdrawn,
    CapacityDeclared,
    EnrolmentsDeclared,
    EnrolmentEnded,
    PlacementConfirmed,
    MatchRefused,
)
BY_TYPE: dict[str, type[EventData]] = {model.event_type(): model for model in ALL_EVENTS}

__all__ = [
    "ALL_EVENTS",
    "BY_TYPE",
    "CURRENT_EVENTS",
    "OLDER_VERSIONS",
    "ORGANISER_INBOUND",
    "CapacityDeclared",
    "CrisisClosure",
    "DeclaredEnrolment",
    "EnrolmentEnded",
    "EnrolmentsDeclared",
    "EventData",
    "LocationRegistered",
    "MatchAccepted",
    "MatchCancelled",
    "MatchDeclined",
    "MatchExpired",
    "MatchProposed",
    "MatchProposedV1",
    "MatchRefused",
    "MatchReminderDue",
    "PlaceFreed",
    "PlaceFreedV1",
    "PlaceWithdrawn",
    "PlacementConfirmed",
    "PriorityFacts",
    "RequestAssessed",
    "RequestExpired",
    "RequestSubmitted",
    "RequestSubmittedV1",
    "RequestUpdated",
    "RequestWithdrawn",
]
