"""Published schemas and the AsyncAPI document are current and backward compatible."""

from __future__ import annotations

import json
import re
from collections import defaultdict

from contracts import generate
from contracts.compat import breaking_changes
from contracts.topics import TOPICS


def test_checked_in_schemas_and_asyncapi_are_current() -> None:
    stale = [str(path) for path, text in generate.rendered_files().items()
             if not path.exists() or path.read_text() != text]
    assert stale == [], "run: uv run python -m contracts.generate"


def test_every_published_version_is_backward_compatible_with_the_previous_one() -> None:
    versions: dict[str, dict[int, dict]] = defaultdict(dict)
    for path in generate.SCHEMA_DIR.glob("*.json"):
        name, version = re.fullmatch(r"be\.loket\.(\w+)\.v(\d+)\.json", path.name).groups()  # type: ignore[union-attr]
        versions[name][int(version)] = json.loads(path.read_text())
    for name, by_version in versions.items():
        assert sorted(by_version) == list(range(1, len(by_version) + 1)), f"{name}: gap"
        for version in sorted(by_version)[1:]:
            problems = breaking_changes(by_version[version - 1], by_version[version])
            assert problems == [], f"{name} v{version}: {problems}"


def test_the_compatibility_check_catches_breaking_changes() -> None:
    old = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    assert breaking_changes(old, old) == []
    additive = {**old, "properties": {**old["properties"], "c": {"type": "string"}}}
    assert breaking_changes(old, additive) == []
    assert breaking_changes(old, {**old, "required": ["a", "b"]}) == ["b: newly required"]
    retyped = {**old, "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}
    assert breaking_changes(old, retyped) == ["a: type changed from ['string']"]
    assert breaking_changes(old, {**old, "properties": {"a": {"type": "string"}}}) == ["b: removed"]


def test_every_topic_is_declared_with_partitions_and_retention() -> None:
    names = [topic.name for topic in TOPICS]
    assert len(names) == len(set(names))
    for topic in TOPICS:
        assert topic.partitions >= 1
        assert topic.config["retention.ms"]
