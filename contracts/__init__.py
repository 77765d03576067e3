"""The versioned events and topics: the only code the services share."""

from __future__ import annotations

from pydantic import ValidationError

from contracts.envelope import (
    CloudEvent,
    MalformedEvent,
    describe_validation_error,
    from_kafka,
    new_event,
    to_kafka,
)
from contracts.events import ALL_EVENTS, BY_TYPE, EventData
from contracts.topics import TOPICS, TopicSpec


class UnknownEventType(ValueError):
    """An event type (or version) this code does not know."""


def parse_data(event: CloudEvent) -> EventData:
    """The typed payload of an envelope, upgraded to the current version of its type;
    MalformedEvent or UnknownEventType if unusable."""
    model = BY_TYPE.get(event.type)
    if model is None:
        raise UnknownEventType(f"field 'type': unknown event type {event.type!r}")
    try:
        return model.model_validate(event.data).upgraded()
    except ValidationError as error:
        reason = describe_validation_error(error).replace("field '", "field 'data.")
        raise MalformedEvent(reason) from None


__all__ = [
    "ALL_EVENTS",
    "BY_TYPE",
    "TOPICS",
    "CloudEvent",
    "EventData",
    "MalformedEvent",
    "TopicSpec",
    "UnknownEventType",
    "describe_validation_error",
    "from_kafka",
    "new_event",
    "parse_data",
    "to_kafka",
]
