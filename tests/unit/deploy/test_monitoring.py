"""Prometheus scrapes every service; Grafana's dashboard asks for metrics the code exports."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.registry import Collector

from tests.unit.deploy.material import ROOT, SERVICES, compose, default_port

PROMETHEUS_CONFIG = ROOT / "deploy/prometheus/prometheus.yml"
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
    from faststream.prometheus.container import MetricsContainer

    from loketkit import consumer, relay

    registry = CollectorRegistry()
    MetricsContainer(registry, custom_label_names=())
    ours = [consumer.APPLIED, consumer.DUPLICATES, consumer.DEAD_LETTERS,
            relay.PUBLISHED, relay.PENDING]
    return sample_names([registry, *ours])


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


def test_compose_mounts_the_monitoring_configuration() -> None:
    services = compose()["services"]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in (
        services["prometheus"]["volumes"]
    )
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
