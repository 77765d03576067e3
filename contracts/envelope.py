"""The CloudEvents 1.0 envelope and its Kafka protocol binding.

Binary content mode is what we publish: the event's data is the Kafka value
(JSON), the attributes travel as `ce_*` headers and the key is the service area.
Structured mode (`content-type: application/cloudevents+json`, the whole
envelope in the value) is accepted on input, so any vendor's system can
produce events with nothing but a Kafka client and a JSON library.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict, Field, ValidationError

from contracts.events.base import SERVICE_AREA, EventData
from contracts.text import CleanInput

SPEC_VERSION = "1.0"
JSON = "application/json"
STRUCTURED = "application/cloudevents+json"
# Attributes the Kafka binding carries as ce_<name> headers.
HEADER_ATTRIBUTES = (
    "id",
    "source",
    "type",
    "specversion",
    "time",
    "subject",
    "servicearea",
    "correlationid",
    "causationid",
)


class MalformedEvent(ValueError):
    """The message is not a readable CloudEvent; the reason is safe to log."""


# Long enough for any URI or UUID a producer uses; the inbox stores source and id (255 each).
ATTRIBUTE_LENGTH = 255


class CloudEvent(CleanInput):
    """CloudEvents 1.0 attributes plus our extensions (lower-case, per the spec).

    Every attribute is bounded and free of control characters; `data` is bounded
    and checked by its event model (`parse_data`), which names the field at fault."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    CHECKED_ELSEWHERE = frozenset({"data"})

    id: str = Field(min_length=1, max_length=ATTRIBUTE_LENGTH)
    source: str = Field(min_length=1, max_length=ATTRIBUTE_LENGTH)
    type: str = Field(min_length=1, max_length=200)
    specversion: str = Field(default=SPEC_VERSION, min_length=1, max_length=10)
    time: datetime
    subject: str | None = Field(default=None, max_length=ATTRIBUTE_LENGTH)
    datacontenttype: str = Field(default=JSON, min_length=1, max_length=100)
    servicearea: str = SERVICE_AREA
    correlationid: str | None = Field(default=None, max_length=ATTRIBUTE_LENGTH)
    causationid: str | None = Field(default=None, max_length=ATTRIBUTE_LENGTH)
    data: dict[str, Any]


def new_event(
    data: EventData,
    *,
    source: str,
    caused_by: CloudEvent | None = None,
) -> CloudEvent:
    """Wrap event data in an envelope; correlation follows the causing event."""
    event_id = str(uuid.uuid4())
    return CloudEvent(
        id=event_id,
        source=source,
        type=data.event_type(),
        time=datetime.now(UTC),
        subject=data.subject(),
        servicearea=data.service_area,
        correlationid=caused_by.correlationid or caused_by.id if caused_by else event_id,
        causationid=caused_by.id if caused_by else None,
        data=data.model_dump(mode="json"),
    )


def to_kafka(event: CloudEvent) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Binary content mode: (key, value, headers)."""
    attributes = event.model_dump(mode="json", exclude={"data", "datacontenttype"})
    headers = [
        (f"ce_{name}", str(attributes[name]).encode())
        for name in HEADER_ATTRIBUTES
        if attributes.get(name) is not None
    ]
    headers.append(("content-type", event.datacontenttype.encode()))
    value = json.dumps(event.data, separators=(",", ":")).encode()
    return event.servicearea.encode(), value, headers


def from_kafka(value: bytes | None, headers: Iterable[tuple[str, bytes]]) -> CloudEvent:
    """Read a CloudEvent in binary or structured mode; MalformedEvent if neither."""
    header_map = {name.lower(): raw.decode("utf-8", "replace") for name, raw in headers}
    try:
        body = json.loads(value or b"")
    except json.JSONDecodeError as error:
        raise MalformedEvent(f"value is not JSON: {error.msg} at position {error.pos}") from None
    content_type = header_map.get("content-type", "")
    if "ce_specversion" in header_map:
        fields: dict[str, Any] = {
            name: header_map[f"ce_{name}"] for name in HEADER_ATTRIBUTES
            if f"ce_{name}" in header_map
        }
        fields["data"] = body
        if content_type:
            fields["datacontenttype"] = content_type
    elif content_type.startswith(STRUCTURED) or (isinstance(body, dict) and "specversion" in body):
        fields = body
    else:
        raise MalformedEvent(
            "no CloudEvents attributes: expected ce_* headers or a structured event"
        )
    if not isinstance(fields, dict) or not isinstance(fields.get("data"), dict):
        raise MalformedEvent("field 'data': must be a JSON object")
    try:
        return CloudEvent.model_validate(fields)
    except ValidationError as error:
        raise MalformedEvent(describe_validation_error(error)) from None


def describe_validation_error(error: ValidationError) -> str:
    """Name the fields at fault without echoing their values (they may be personal)."""
    problems = [
        f"field '{'.'.join(str(part) for part in item['loc']) or '(root)'}': {item['msg']}"
        for item in error.errors(include_input=False, include_url=False)
    ]
    return "; ".join(problems)
