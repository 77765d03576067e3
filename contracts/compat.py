"""Backward-compatibility check between two versions of an event's JSON Schema.

Backward compatible means a consumer built on the new version can still read
every event written with the old one: no new required fields, no removed or
retyped properties, no narrowed enumerations.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def breaking_changes(old: Schema, new: Schema, path: str = "") -> list[str]:
    problems: list[str] = []
    old_props: dict[str, Schema] = old.get("properties", {})
    new_props: dict[str, Schema] = new.get("properties", {})
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}{name}: newly required")
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}{name}: removed")
            continue
        new_prop = new_props[name]
        if _types(old_prop) - _types(new_prop):
            problems.append(f"{path}{name}: type changed from {sorted(_types(old_prop))}")
        if "enum" in new_prop and set(old_prop.get("enum", [])) - set(new_prop["enum"]):
            problems.append(f"{path}{name}: enumeration narrowed")
        if "properties" in old_prop:
            problems.extend(breaking_changes(old_prop, new_prop, f"{path}{name}."))
    return problems


def _types(prop: Schema) -> set[str]:
    if "type" in prop:
        kind = prop["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    if "anyOf" in prop:
        return set().union(*(_types(option) for option in prop["anyOf"]))
    if "$ref" in prop:
        return {prop["$ref"]}
    return set()
