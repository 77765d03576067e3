"""Prometheus scrapes every service; Grafana's dashboard asks for metrics the code exports."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.registry import Collector

import loketkit
from tests.unit.deploy.material import ROOT, SERVICES, compose, default_port

PROMETHEUS_CONFIG = ROOT / "deploy/prometheus/prometheus.yml"
ALERT_RULES = ROOT / "deploy/prometheus/alerts.yml"
GRAFANA = ROOT / "deploy/grafana"
METRIC = re.compile(r"\b(?:faststream|loket)_[a-z_]+\b")


def sample_names(collectors: list[Collector]) -> set[str]:
    suffixes = {
        "counter": ("_total", "_created"),
        "gauge": ("",),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
    }
    return {
        family.name + suffix
        for collector in collectors
        for family in collector.collect()
        for suffix in suffixes.get(family.type, ("",))
    }


def exported_metric_names() -> set[str]:
    """Every series name the services can export: loketkit's own metrics (each module
    imported, so each registers its metrics) and FastStream's."""
    from faststream.prometheus.container import MetricsContainer

    for module in pkgutil.walk_packages(loketkit.__path__, "loketkit."):
        importlib.import_module(module.name)
    faststream = CollectorRegistry()
    MetricsContainer(faststream, custom_label_names=())
    return sample_names([faststream, REGISTRY])


def test_the_exported_names_are_read_from_the_code_not_listed_by_hand() -> None:
    names = exported_metric_names()
    assert {"loket_outbox_published_total", "loket_outbox_backlog",
            "loket_outbox_oldest_unpublished_age_seconds", "loket_outbox_parked",
            "faststream_received_messages_total"} <= names
    assert "loket_outbox_batch_size" not in names  # the last batch's size was no backlog


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GRAFANA / "dashboards/loket.json").read_text())
    return loaded


def test_prometheus_scrapes_every_service_metrics_endpoint() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    scraped = {
        target: job.get("metrics_path", "/metrics")
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    for service in SERVICES:
        assert scraped.get(f"{service}:{default_port(service)}") == "/metrics", service


def mounts(service: str) -> dict[str, Path]:
    """Container path -> host path of a compose service's bind mounts."""
    found = {}
    for volume in compose()["services"][service]["volumes"]:
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = ROOT / source
    return found


def test_compose_prometheus_reads_the_config_and_rules_the_tests_check() -> None:
    prometheus = compose()["services"]["prometheus"]
    options = dict(arg.split("=", 1) for arg in prometheus["command"] if "=" in arg)
    config_path = PurePosixPath(options["--config.file"])
    assert mounts("prometheus")[str(config_path)] == PROMETHEUS_CONFIG
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    # Prometheus resolves rule files relative to its configuration file.
    rule_files = [str(config_path.parent / name) for name in config["rule_files"]]
    assert [mounts("prometheus").get(path) for path in rule_files] == [ALERT_RULES]


def test_compose_mounts_the_grafana_configuration() -> None:
    services = compose()["services"]
    grafana_mounts = {v.split(":")[0]: v.split(":")[1] for v in services["grafana"]["volumes"]}
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/loket.yml").read_text())
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert grafana_mounts["./deploy/grafana/dashboards"] == dashboards_path
    assert grafana_mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"


def test_grafana_datasource_is_the_compose_prometheus() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (datasource,) = provisioned["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"
    assert "9090:9090" in compose()["services"]["prometheus"]["ports"]
    uids = {panel["datasource"]["uid"] for panel in dashboard()["panels"] if "datasource" in panel}
    assert uids == {datasource["uid"]}


def test_dashboard_shows_traffic_dead_letters_outbox_and_applied_events() -> None:
    expressions = [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert {
        "faststream_received_messages_total",
        "faststream_published_messages_total",
        "loket_dead_letters_total",
        "loket_outbox_published_total",
        "loket_events_applied_total",
    } <= used


def test_dashboard_asks_only_for_metrics_the_code_exports() -> None:
    expressions = [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]
    used = {name for expr in expressions for name in METRIC.findall(expr)}
    assert used <= exported_metric_names(), used - exported_metric_names()


def test_dashboard_filters_faststream_metrics_by_the_brokers_app_name() -> None:
    # loketkit.kafka.make_broker labels FastStream's metrics app_name="loket-<service>".
    expressions = [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]
    for expr in expressions:
        if "faststream_" in expr:
            assert 'app_name=~"loket-($service)"' in expr, expr
    variable = dashboard()["templating"]["list"][0]
    assert variable["name"] == "service"
    assert variable["query"].split(",") == list(SERVICES)
