"""deploy/prometheus/alerts.yml: rules that parse, ask only for metrics the code exports,
and say how bad and what (severity, summary) with labels the expression keeps."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
import yaml

from tests.unit.deploy.material import SERVICES
from tests.unit.deploy.test_monitoring import (
    ALERT_RULES,
    PROMETHEUS_CONFIG,
    exported_metric_names,
)

# Being added beside the relay's metrics (loketkit/lag.py); named here so the rule can ship.
CONSUMER_LAG = "loket_consumer_lag"
# Series Prometheus writes itself for every scrape target.
PROMETHEUS_SERIES = {"up"}
SEVERITIES = {"critical", "warning", "info"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "inf", "nan"}
STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
MATCHERS = re.compile(r"\{[^}]*\}")
RANGE = re.compile(r"\[[^\]]*\]")
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The series an expression selects: identifiers that are not functions, keywords,
    label names in groupings, or inside strings, matchers and ranges."""
    bare = RANGE.sub(" ", MATCHERS.sub(" ", STRING.sub('""', expr)))
    bare = GROUPING.sub(" ", bare)
    names = set()
    for match in IDENTIFIER.finditer(bare):
        after = bare[match.end():].lstrip()
        word = match.group(0)
        if after.startswith("(") or word.lower() in KEYWORDS:
            continue  # a function or aggregation, or an operator
        if bare[max(match.start() - 1, 0)].isdigit():
            continue  # a number's exponent or unit (1e3)
        names.add(word)
    return names


def grouping_labels(expr: str) -> set[str] | None:
    """Labels an aggregated expression keeps (`by (...)`); None when it aggregates nothing."""
    found = re.search(r"\bby\s*\(([^)]*)\)", expr)
    if found is None:
        return None
    return {label.strip() for label in found.group(1).split(",") if label.strip()}


@cache
def rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load(ALERT_RULES.read_text())
    groups = loaded["groups"]
    assert groups and len({group["name"] for group in groups}) == len(groups)
    return [rule for group in groups for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    found = {rule["alert"]: rule for rule in rules() if "alert" in rule}
    assert len(found) == len([rule for rule in rules() if "alert" in rule]), "duplicate names"
    return found


def test_the_name_reader_finds_metrics_and_nothing_else() -> None:
    expr = ('sum by (service, topic) (increase(loket_x_total{a="b", c=~"up|d"}[15m])) '
            '/ on (service) group_left max without (le) (other:recorded) > 1e3 and up == 0')
    assert metric_names(expr) == {"loket_x_total", "other:recorded", "up"}
    assert grouping_labels(expr) == {"service", "topic"}


def test_rules_parse_and_are_all_alerts_with_a_valid_hold_time() -> None:
    assert rules()
    for rule in rules():
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
        assert rule["alert"] and rule["expr"]
        assert DURATION.match(str(rule.get("for", "0s"))), rule["alert"]


@pytest.mark.parametrize("name", sorted(alerts()))
def test_every_alert_asks_only_for_metrics_the_code_exports(name: str) -> None:
    known = exported_metric_names() | {CONSUMER_LAG} | PROMETHEUS_SERIES
    used = metric_names(alerts()[name]["expr"])
    assert used, name
    assert used <= known, f"{name} asks for {sorted(used - known)}, which nothing exports"


@pytest.mark.parametrize("name", sorted(alerts()))
def test_every_alert_has_a_severity_and_a_summary_with_labels_it_keeps(name: str) -> None:
    rule = alerts()[name]
    assert rule["labels"]["severity"] in SEVERITIES
    summary = rule["annotations"]["summary"]
    assert summary.strip()
    kept = grouping_labels(rule["expr"])
    if kept is not None:  # an aggregation drops every label it is not grouped by
        text = " ".join(rule["annotations"].values())
        used = set(re.findall(r"\$labels\.([A-Za-z_][A-Za-z0-9_]*)", text))
        assert used <= kept, f"{name} prints {sorted(used - kept)}, dropped by its expression"


def test_alerts_cover_outbox_parked_rows_dead_letters_lag_and_services_down() -> None:
    used = set().union(*(metric_names(rule["expr"]) for rule in alerts().values()))
    assert {
        "loket_outbox_oldest_unpublished_age_seconds",
        "loket_outbox_parked",
        "loket_dead_letters_total",
        CONSUMER_LAG,
        "up",
    } <= used


def test_the_service_down_alert_watches_every_scraped_service() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    [down] = [rule for rule in alerts().values() if metric_names(rule["expr"]) == {"up"}]
    pattern = re.search(r'job=~"([^"]+)"', down["expr"])
    assert pattern is not None, "the rule names the service jobs"
    watched = {job for job in jobs if re.fullmatch(pattern.group(1), job)}
    assert watched == set(SERVICES)
