"""Published schemas and the AsyncAPI document are current and backward compatible."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from contracts import generate
from contracts.compat import Schema, breaking_changes
from contracts.events import BY_TYPE, CURRENT_EVENTS, OLDER_VERSIONS, EventData
from contracts.topics import (
    CAPACITY,
    DAY_MS,
    FOREVER,
    MATCHES,
    ORGANISER_INBOUND_TOPICS,
    REQUESTS,
    TOPICS,
)

# The schemas as first published (2026-11-22; the events of the offer-to-placement
# lifecycle and the v2s on 2026-11-23). A published version changes in place only
# by a reviewed, recorded exception: every breaking difference from these is listed below
# and in contracts/CHANGELOG.md, or this test fails.
PUBLISHED = Path(__file__).parent / "published"
NIS = "maxLength 5 added"
ID_ITEM = ["minLength 1 added", "maxLength 64 added", r"pattern ^[A-Za-z0-9_.:-]+$ added"]
# contracts/CHANGELOG.md, 2026-11-23: v1 bounded once, before any outside producer existed.
REVIEWED_IN_PLACE: dict[str, list[str]] = {
    "be.loket.CrisisClosure.v1": [f"municipality_nis: {NIS}"],
    "be.loket.LocationRegistered.v1": [f"municipality_nis: {NIS}", "postcode: maxLength 4 added"],
    "be.loket.MatchProposed.v1": [f"location_municipality_nis: {NIS}",
                                  f"request_municipality_nis: {NIS}"],
    "be.loket.PlaceFreed.v1": [f"municipality_nis: {NIS}"],
    "be.loket.RequestSubmitted.v1": [
        f"municipality_nis: {NIS}", "birth_month: maxLength 7 added",
        *(f"preferred_location_ids[]: {change}" for change in ID_ITEM),
        *(f"priority.sibling_location_ids[]: {change}" for change in ID_ITEM),
        *(f"replaces_request_id: {change}" for change in ID_ITEM),
    ],
    "be.loket.RequestWithdrawn.v1": [f"municipality_nis: {NIS}"],
}


def test_checked_in_schemas_and_asyncapi_are_current() -> None:
    stale = [str(path) for path, text in generate.rendered_files().items()
             if not path.exists() or path.read_text() != text]
    assert stale == [], "run: uv run python -m contracts.generate"


def test_every_version_but_the_newest_is_read_and_upgraded_to_the_newest() -> None:
    """A new version may break the schema (that is why it is new); consumers still read
    every older one, because the topics keep their history and organisers' systems lag."""
    versions: dict[str, set[int]] = defaultdict(set)
    for path in generate.SCHEMA_DIR.glob("*.json"):
        name, version = re.fullmatch(r"be\.loket\.(\w+)\.v(\d+)\.json", path.name).groups()  # type: ignore[union-attr]
        versions[name].add(int(version))
    for name, numbers in versions.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{name}: gap"
        newest = BY_TYPE[f"be.loket.{name}.v{max(numbers)}"]
        assert newest in CURRENT_EVENTS, f"{name} v{max(numbers)} is not the one services use"
        for older in numbers - {max(numbers)}:
            model = BY_TYPE[f"be.loket.{name}.v{older}"]
            assert model in OLDER_VERSIONS and model.upgraded is not EventData.upgraded, (
                f"{name} v{older} has no upgrade to v{max(numbers)}"
            )


def test_published_versions_change_in_place_only_as_reviewed() -> None:
    published = sorted(PUBLISHED.glob("*.json"))
    assert published, "the published baseline is missing"
    for path in published:
        current = generate.SCHEMA_DIR / path.name
        assert current.exists(), f"{path.name}: a published version was removed"
        problems = breaking_changes(json.loads(path.read_text()), json.loads(current.read_text()))
        name = path.name.removesuffix(".json")
        assert problems == REVIEWED_IN_PLACE.get(name, []), (
            f"{name} changed in place: publish a new version instead "
            "(or record a reviewed exception in contracts/CHANGELOG.md and here)"
        )


def test_the_compatibility_check_catches_narrowed_bounds_in_nested_models_and_items() -> None:
    old: Schema = {
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "ids": {"type": "array", "maxItems": 10, "items": {"type": "string"}},
            "facts": {"$ref": "#/$defs/Facts"},
            "ref": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "count": {"type": "integer", "minimum": 0, "maximum": 10},
        },
        "$defs": {"Facts": {"properties": {
            "tags": {"type": "array", "items": {"type": "string"}}}}},
    }
    assert breaking_changes(old, old) == []
    widened = json.loads(json.dumps(old))
    widened["properties"]["name"]["maxLength"] = 300
    widened["properties"]["count"]["maximum"] = 20
    assert breaking_changes(old, widened) == []
    narrowed = json.loads(json.dumps(old))
    narrowed["properties"]["name"]["maxLength"] = 100
    narrowed["properties"]["ids"]["items"]["maxLength"] = 64
    narrowed["$defs"]["Facts"]["properties"]["tags"]["maxItems"] = 3
    narrowed["properties"]["ref"]["anyOf"][0]["pattern"] = "^[a-z]+$"
    narrowed["properties"]["count"]["minimum"] = 1
    assert breaking_changes(old, narrowed) == [
        "name: maxLength lowered from 200 to 100",
        "ids[]: maxLength 64 added",
        "facts.tags: maxItems 3 added",
        "ref: pattern ^[a-z]+$ added",
        "count: minimum raised from 0 to 1",
    ]


def test_the_compatibility_check_catches_breaking_changes() -> None:
    old: Schema = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
                   "required": ["a"]}
    assert breaking_changes(old, old) == []
    additive = {**old, "properties": {**old["properties"], "c": {"type": "string"}}}
    assert breaking_changes(old, additive) == []
    assert breaking_changes(old, {**old, "required": ["a", "b"]}) == ["b: newly required"]
    retyped = {**old, "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
    assert breaking_changes(old, retyped) == ["a: type changed from ['string']"]
    assert breaking_changes(old, {**old, "properties": {"a": {"type": "string"}}}) == ["b: removed"]


def test_topics_keep_what_reporting_rebuilds_from_and_share_partitioning() -> None:
    names = [topic.name for topic in TOPICS]
    assert len(names) == len(set(names))
    # Reporting rebuilds its figures by replaying these from the start: they keep everything.
    for topic in (REQUESTS, CAPACITY, MATCHES):
        assert topic.config["retention.ms"] == str(FOREVER), topic.name
    for topic in TOPICS:
        retention = int(topic.config["retention.ms"])
        assert retention == FOREVER or retention >= DAY_MS, topic.name
    # The range assignor puts partition N of every input topic on one instance, so a service
    # area's requests and places meet only if the keyed topics have equal partition counts.
    keyed = {topic.partitions for topic in (REQUESTS, CAPACITY, ORGANISER_INBOUND_TOPICS, MATCHES)}
    assert len(keyed) == 1
