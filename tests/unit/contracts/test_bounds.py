"""Every string and list an event can carry is bounded, so no event can outgrow a
Kafka message (1 MB by default) and stop the outbox relay."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts import CloudEvent, MalformedEvent, from_kafka, new_event, parse_data, to_kafka
from contracts.events import ALL_EVENTS, EventData, PriorityFacts, RequestSubmitted
from contracts.schedule import DAY_PARTS

# What an event may take at most, envelope and headers included: far below Kafka's 1 MB.
EVENT_BUDGET_BYTES = 32 * 1024
# Strings whose length their format already fixes.
SELF_BOUNDED_FORMATS = {"date", "date-time"}


def unbounded(schema: dict[str, Any], root: dict[str, Any], path: str = "") -> list[str]:
    """Paths of strings without maxLength and lists without maxItems (also in items,
    anyOf branches and referenced definitions)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return unbounded(root["$defs"][name], root, path)
    found: list[str] = []
    for option in schema.get("anyOf", []):
        found += unbounded(option, root, path)
    kind = schema.get("type")
    if kind == "string" and "maxLength" not in schema and "enum" not in schema \
            and "const" not in schema and schema.get("format") not in SELF_BOUNDED_FORMATS:
        found.append(path or "(root)")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(path)
        found += unbounded(schema.get("items", {}), root, f"{path}[]")
    for name, prop in schema.get("properties", {}).items():
        found += unbounded(prop, root, f"{path}.{name}" if path else name)
    return found


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda model: model.NAME)
def test_every_string_and_list_of_an_event_is_bounded(model: type[EventData]) -> None:
    schema = model.model_json_schema(mode="validation")
    assert unbounded(schema, schema) == []


def test_every_envelope_attribute_is_bounded() -> None:
    schema = CloudEvent.model_json_schema(mode="validation")
    assert unbounded(schema, schema) == []


def test_the_walker_finds_unbounded_strings_lists_and_items() -> None:
    schema = {"properties": {
        "a": {"type": "string"},
        "b": {"type": "array", "maxItems": 3, "items": {"type": "string"}},
        "c": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]},
        "d": {"$ref": "#/$defs/D"}},
        "$defs": {"D": {"properties": {"e": {"type": "array", "items": {"type": "integer"}}}}}}
    assert unbounded(schema, schema) == ["a", "b[]", "d.e"]


def largest_request() -> RequestSubmitted:
    """A RequestSubmitted with every string and list at its maximum."""
    location = "L" * 64
    return RequestSubmitted(
        service_area="a" * 64, request_id="r" * 64, child_ref="c" * 128,
        municipality_nis="13008", neighbourhood_code="n" * 32, birth_month="2026-01",
        desired_start_date=date(2027, 1, 4), day_parts=list(DAY_PARTS),
        preferred_location_ids=[location] * 10,
        priority=PriorityFacts(sibling_location_ids=[location] * 10),
        urgency="crisis", replaces_request_id="q" * 64,
        submitted_at=datetime(2026, 11, 23, tzinfo=UTC),
    )


def test_the_largest_possible_request_event_fits_the_budget() -> None:
    cause = new_event(largest_request(), source="s" * 255)
    event = new_event(largest_request(), source="s" * 255, caused_by=cause).model_copy(
        update={"id": "i" * 255, "subject": "j" * 255, "correlationid": "k" * 255})
    key, value, headers = to_kafka(event)
    size = len(key) + len(value) + sum(len(name) + len(raw) for name, raw in headers)
    assert size < EVENT_BUDGET_BYTES


def test_a_two_hundred_kilobyte_sibling_id_is_refused_naming_the_field() -> None:
    data = largest_request().model_dump(mode="json")
    data["priority"]["sibling_location_ids"] = ["x" * 200_000] * 10
    event = new_event(largest_request(), source="/intake").model_copy(update={"data": data})
    with pytest.raises(MalformedEvent, match=r"data\.priority\.sibling_location_ids\.0"):
        parse_data(event)


@pytest.mark.parametrize("field", ["replaces_request_id", "neighbourhood_code", "child_ref"])
def test_overlong_request_fields_are_refused_naming_the_field(field: str) -> None:
    data = largest_request().model_dump(mode="json") | {field: "x" * 5000}
    event = new_event(largest_request(), source="/intake").model_copy(update={"data": data})
    with pytest.raises(MalformedEvent, match=rf"data\.{field}"):
        parse_data(event)


@pytest.mark.parametrize(
    "attribute", ["id", "source", "type", "subject", "servicearea", "correlationid",
                  "causationid", "datacontenttype", "specversion"],
)
def test_overlong_envelope_attributes_are_refused_naming_the_attribute(attribute: str) -> None:
    structured = {
        "specversion": "1.0", "id": "evt-1", "source": "urn:organiser:x",
        "type": "be.loket.RequestSubmitted.v1", "time": "2026-11-23T09:00:00Z",
        "servicearea": "kempen-gml", "data": largest_request().model_dump(mode="json"),
    } | {attribute: "x" * 10_000}
    with pytest.raises(MalformedEvent, match=rf"field '{attribute}'"):
        from_kafka(json.dumps(structured).encode(),
                   [("content-type", b"application/cloudevents+json")])
