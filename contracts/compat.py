"""Backward-compatibility check between two versions of an event's JSON Schema.

Backward compatible means a consumer built on the new version can still read
every event written with the old one: no new required fields, no removed or
retyped properties, no narrowed enumerations, and no narrowed bounds (a lower
maxLength or maxItems, a higher minimum, a new or changed pattern): an event
that was valid under the old schema must stay valid. Nested models (`$ref`),
list items and `anyOf` branches are checked too.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

# Raising a lower bound or lowering an upper one refuses events the old schema accepted.
LOWER_BOUNDS = ("minLength", "minItems", "minimum", "exclusiveMinimum")
UPPER_BOUNDS = ("maxLength", "maxItems", "maximum", "exclusiveMaximum")


def breaking_changes(
    old: Schema, new: Schema, path: str = "", *, old_root: Schema | None = None,
    new_root: Schema | None = None,
) -> list[str]:
    old_root = old if old_root is None else old_root
    new_root = new if new_root is None else new_root
    old, new = _resolve(old, old_root), _resolve(new, new_root)
    problems: list[str] = []
    label = path.rstrip(".") or "(root)"
    if _types(old) - _types(new):
        problems.append(f"{label}: type changed from {sorted(_types(old))}")
    if "enum" in new and set(old.get("enum", [])) - set(new["enum"]):
        problems.append(f"{label}: enumeration narrowed")
    problems.extend(f"{label}: {change}" for change in _narrowed_bounds(old, new))
    old_props: dict[str, Schema] = old.get("properties", {})
    new_props: dict[str, Schema] = new.get("properties", {})
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}{name}: newly required")
    roots = {"old_root": old_root, "new_root": new_root}
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}{name}: removed")
            continue
        problems.extend(breaking_changes(old_prop, new_props[name], f"{path}{name}.", **roots))
    if "items" in old and "items" in new:
        items = f"{path.rstrip('.')}[]."
        problems.extend(breaking_changes(old["items"], new["items"], items, **roots))
    old_options, new_options = old.get("anyOf", []), new.get("anyOf", [])
    if len(old_options) == len(new_options):  # the same union, each branch checked in turn
        for old_option, new_option in zip(old_options, new_options, strict=True):
            problems.extend(breaking_changes(old_option, new_option, path, **roots))
    return problems


def _narrowed_bounds(old: Schema, new: Schema) -> list[str]:
    changes: list[str] = []
    for keyword in (*LOWER_BOUNDS, *UPPER_BOUNDS, "pattern"):
        if keyword not in new or new[keyword] == old.get(keyword):
            continue
        if keyword not in old:
            changes.append(f"{keyword} {new[keyword]} added")
        elif keyword == "pattern":
            changes.append(f"pattern changed from {old[keyword]} to {new[keyword]}")
        elif keyword in LOWER_BOUNDS and new[keyword] > old[keyword]:
            changes.append(f"{keyword} raised from {old[keyword]} to {new[keyword]}")
        elif keyword in UPPER_BOUNDS and new[keyword] < old[keyword]:
            changes.append(f"{keyword} lowered from {old[keyword]} to {new[keyword]}")
    return changes


def _resolve(schema: Schema, root: Schema) -> Schema:
    """A local `$ref` (#/$defs/Name) replaced by the definition it names."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(root.get("$defs", {}).get(ref.removeprefix("#/$defs/"), schema))
    return schema


def _types(prop: Schema) -> set[str]:
    if "type" in prop:
        kind = prop["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    if "anyOf" in prop:
        return set().union(*(_types(option) for option in prop["anyOf"]))
    if "$ref" in prop:
        return {prop["$ref"]}
    return set()
