"""The CloudEvents Kafka binding: what other vendors' systems send and read."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from contracts import MalformedEvent, UnknownEventType, from_kafka, new_event, parse_data, to_kafka
from contracts.events import PlaceFreed

PLACE = PlaceFreed(
    service_area="kempen-gml", place_id="p-1", location_id="loc-1", municipality_nis="13008",
    available_from=date(2027, 1, 4), min_age_months=0, max_age_months=36,
    freed_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC), day_parts=["mon_am"],
)


def test_binary_mode_round_trip_keys_by_service_area() -> None:
    event = new_event(PLACE, source="/organiser/42")
    key, value, headers = to_kafka(event)
    assert key == b"kempen-gml"
    assert dict(headers)["ce_type"] == b"be.loket.PlaceFreed.v2"
    assert dict(headers)["ce_specversion"] == b"1.0"
    assert parse_data(from_kafka(value, headers)) == PLACE


def test_structured_mode_from_an_organisers_system_is_accepted() -> None:
    structured = {
        "specversion": "1.0", "id": "evt-1", "source": "urn:organiser:kdv-zonneke",
        "type": "be.loket.PlaceFreed.v2", "time": "2026-11-23T09:00:00Z",
        "servicearea": "kempen-gml", "data": PLACE.model_dump(mode="json"),
    }
    event = from_kafka(json.dumps(structured).encode(),
                       [("content-type", b"application/cloudevents+json")])
    assert parse_data(event) == PLACE


def test_caused_events_share_the_correlation_id() -> None:
    cause = new_event(PLACE, source="/a")
    effect = new_event(PLACE, source="/b", caused_by=cause)
    assert (effect.correlationid, effect.causationid) == (cause.id, cause.id)


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"{oops", [("ce_specversion", b"1.0")], "not JSON"),
        (b"{}", [], "no CloudEvents attributes"),
        (b"[]", [("ce_specversion", b"1.0"), ("ce_id", b"1")], "field 'data'"),
        (b"{}", [("ce_specversion", b"1.0"), ("ce_type", b"x")], "field 'id'"),
    ],
)
def test_malformed_messages_name_the_problem(
    value: bytes, headers: list[tuple[str, bytes]], reason: str
) -> None:
    with pytest.raises(MalformedEvent, match=reason):
        from_kafka(value, headers)


def test_invalid_data_names_the_field_without_echoing_values() -> None:
    bad = PLACE.model_dump(mode="json") | {"municipality_nis": "Jan Janssens"}
    event = new_event(PLACE, source="/x").model_copy(update={"data": bad})
    with pytest.raises(MalformedEvent) as caught:
        parse_data(event)
    assert "data.municipality_nis" in str(caught.value)
    assert "Janssens" not in str(caught.value)


def test_unknown_versions_are_refused_by_name() -> None:
    event = new_event(PLACE, source="/x").model_copy(update={"type": "be.loket.PlaceFreed.v9"})
    with pytest.raises(UnknownEventType, match="PlaceFreed.v9"):
        parse_data(event)
