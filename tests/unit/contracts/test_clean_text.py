"""An inbound event with a NUL or another control character in any text is a
MalformedEvent naming the field (dead-lettered), never a database error later."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts import MalformedEvent, from_kafka, new_event, parse_data
from contracts.events import (
    EventData,
    LocationRegistered,
    MatchProposed,
    PriorityFacts,
    RequestSubmitted,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LOCATION = LocationRegistered(
    service_area="kempen-gml", location_id="loc-1", name="KDV 't Zonneke",
    municipality_nis="13008", postcode="2440", capacity=40, subsidy_tier="basic",
    registered_at=NOW,
)
REQUEST = RequestSubmitted(
    service_area="kempen-gml", request_id="req-1", child_ref="c" * 32,
    municipality_nis="13008", neighbourhood_code="A01", birth_month="2026-01",
    desired_start_date=date(2027, 1, 4), day_parts=["mon_am", "tue_am"],
    preferred_location_ids=["loc-1"],
    priority=PriorityFacts(sibling_location_ids=["loc-2"]), replaces_request_id="req-0",
    submitted_at=NOW,
)
MATCH = MatchProposed(
    service_area="kempen-gml", match_id="m-1", request_id="req-1", place_id="p-1",
    location_id="loc-1", location_municipality_nis="13008", request_municipality_nis="13008",
    urgency="normal", ordering="urgency, then submission time", proposed_at=NOW,
    start_date=date(2027, 1, 4), day_parts=["mon_am"], requested_day_parts=["mon_am"],
    family_answer_due=NOW, organiser_answer_due=NOW,
)


def with_value(data: EventData, path: str, value: str) -> dict[str, Any]:
    """The payload as JSON with the field at `path` (a.b.0) set to `value`."""
    payload = data.model_dump(mode="json")
    *parents, last = path.split(".")
    target: Any = payload
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return dict(payload)


@pytest.mark.parametrize("character", ["\u0000", "\u001b", "\u0007", "\u007f", "\u0085"])
@pytest.mark.parametrize(
    ("data", "path"),
    [
        (LOCATION, "name"),
        (LOCATION, "location_id"),
        (REQUEST, "child_ref"),
        (REQUEST, "neighbourhood_code"),
        (REQUEST, "replaces_request_id"),
        (REQUEST, "preferred_location_ids.0"),
        (REQUEST, "priority.sibling_location_ids.0"),
        (MATCH, "ordering"),
    ],
)
def test_control_characters_in_event_data_are_malformed_naming_the_field(
    data: EventData, path: str, character: str
) -> None:
    original: str = "x" * 20
    event = new_event(data, source="/x").model_copy(
        update={"data": with_value(data, path, f"{original[:10]}{character}{original[10:]}")})
    with pytest.raises(MalformedEvent, match=rf"field 'data\.{path}'") as caught:
        parse_data(event)
    assert character not in str(caught.value)


def test_tabs_and_line_breaks_are_text_not_control() -> None:
    event = new_event(MATCH, source="/x").model_copy(
        update={"data": with_value(MATCH, "ordering", "urgency,\tthen\ntime\r\n")})
    assert parse_data(event).ordering == "urgency,\tthen\ntime\r\n"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "attribute", ["id", "source", "subject", "servicearea", "correlationid", "causationid"])
def test_control_characters_in_the_envelope_are_malformed_naming_the_attribute(
    attribute: str,
) -> None:
    structured = {
        "specversion": "1.0", "id": "evt-1", "source": "urn:organiser:x",
        "type": "be.loket.LocationRegistered.v1", "time": "2026-11-23T09:00:00Z",
        "servicearea": "kempen-gml", "data": LOCATION.model_dump(mode="json"),
    } | {attribute: "evt\u0000-1"}
    with pytest.raises(MalformedEvent, match=rf"field '{attribute}'"):
        from_kafka(json.dumps(structured).encode(),
                   [("content-type", b"application/cloudevents+json")])


def test_a_nul_in_a_binary_mode_header_is_malformed() -> None:
    value = json.dumps(LOCATION.model_dump(mode="json")).encode()
    headers = [("ce_specversion", b"1.0"), ("ce_id", b"evt\x00-1"), ("ce_source", b"urn:x"),
               ("ce_type", b"be.loket.LocationRegistered.v1"),
               ("ce_time", b"2026-11-23T09:00:00Z"), ("ce_servicearea", b"kempen-gml")]
    with pytest.raises(MalformedEvent, match="field 'id'"):
        from_kafka(value, headers)
