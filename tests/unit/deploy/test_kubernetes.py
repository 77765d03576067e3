"""deploy/kubernetes: every Deployment is probed, sized, and wired to its settings and secret."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from contracts.topics import CAPACITY, REQUESTS
from tests.unit.deploy.material import (
    KUBERNETES_DIR,
    SERVICES,
    default_port,
    environment_names,
    kubernetes_documents,
    kubernetes_objects,
    settings_class,
)
from tools.infra.create_topics import build_parser

NAMESPACE = "loket-kinderopvang"


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_every_manifest_parses_into_the_namespace() -> None:
    kinds = {doc["kind"] for _, doc in kubernetes_documents()}
    assert {"Namespace", "ConfigMap", "Secret", "Deployment", "Service", "Job"} <= kinds
    assert set(kubernetes_objects("Namespace")) == {NAMESPACE}
    for name, doc in kubernetes_documents():
        if doc["kind"] not in ("Namespace", "Kustomization"):
            assert doc["metadata"]["namespace"] == NAMESPACE, (name, doc["metadata"]["name"])


def test_one_deployment_and_service_per_service() -> None:
    # ...and the identity provider for a trial (keycloak.yaml).
    assert set(kubernetes_objects("Deployment")) == {*SERVICES, "keycloak"}
    assert set(kubernetes_objects("Service")) == {*SERVICES, "keycloak"}


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_has_liveness_and_readiness_probes(service: str) -> None:
    deployment = kubernetes_objects("Deployment")[service]
    spec = container(deployment)
    port = default_port(service)
    assert spec["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    assert spec["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert spec["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert spec["startupProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_runs_its_module_with_common_config_and_own_secret(service: str) -> None:
    deployment = kubernetes_objects("Deployment")[service]
    pod = deployment["spec"]["template"]["spec"]
    spec = container(deployment)
    assert spec["command"] == ["python", "-m", f"services.{service}"]
    assert {"configMapRef": {"name": "loket-common"}} in spec["envFrom"]
    assert {"secretRef": {"name": f"loket-{service}"}} in spec["envFrom"]
    # Service links would put e.g. INTAKE_PORT=tcp://... in the environment.
    assert pod["enableServiceLinks"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert deployment["spec"]["selector"]["matchLabels"].items() <= (
        deployment["spec"]["template"]["metadata"]["labels"].items()
    )


@pytest.mark.parametrize("service", SERVICES)
def test_deployment_requests_modest_resources(service: str) -> None:
    resources = container(kubernetes_objects("Deployment")[service])["resources"]
    assert resources["requests"]["cpu"].endswith("m")
    assert int(resources["requests"]["cpu"][:-1]) <= 500
    assert resources["requests"]["memory"].endswith("Mi")
    assert int(resources["requests"]["memory"][:-2]) <= 512
    assert "memory" in resources["limits"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_exposes_the_settings_port(service: str) -> None:
    (port,) = kubernetes_objects("Service")[service]["spec"]["ports"]
    assert port["port"] == default_port(service)
    assert port["targetPort"] == "http"
    selector = kubernetes_objects("Service")[service]["spec"]["selector"]
    assert selector == {"app.kubernetes.io/name": service}


def test_matching_scales_within_its_partitions() -> None:
    replicas = kubernetes_objects("Deployment")["matching"]["spec"]["replicas"]
    assert replicas == 2
    assert replicas <= min(REQUESTS.partitions, CAPACITY.partitions)


def test_config_map_holds_settings_and_ports_not_secrets() -> None:
    data = kubernetes_objects("ConfigMap")["loket-common"]["data"]
    readable = set().union(*(environment_names(settings_class(name)) for name in SERVICES))
    assert set(data) <= readable, set(data) - readable
    for service in SERVICES:
        assert data[f"{service.upper()}_PORT"] == str(default_port(service))
    assert data["HTTP_HOST"] == "0.0.0.0"
    assert not {"DATABASE_URL", "CHILD_REF_KEY"} & set(data)


@pytest.mark.parametrize("service", SERVICES)
def test_example_secret_points_at_the_services_own_database(service: str) -> None:
    secret = kubernetes_objects("Secret")[f"loket-{service}"]
    url = make_url(secret["stringData"]["DATABASE_URL"])
    assert url.drivername == "postgresql+asyncpg"
    assert url.database == service
    assert ("CHILD_REF_KEY" in secret["stringData"]) == (service == "intake")


def test_create_topics_job_replicates_three_times() -> None:
    job = kubernetes_objects("Job")["create-topics"]
    (spec,) = job["spec"]["template"]["spec"]["containers"]
    assert spec["command"][:3] == ["python", "-m", "tools.infra.create_topics"]
    args = build_parser().parse_args(spec["command"][3:])
    assert args.bootstrap == "$(KAFKA_BOOTSTRAP_SERVERS)"  # expanded by Kubernetes
    assert {"name": "KAFKA_BOOTSTRAP_SERVERS", "valueFrom": {"configMapKeyRef": {
        "name": "loket-common", "key": "KAFKA_BOOTSTRAP_SERVERS"}}} in spec["env"]
    assert args.replication_factor == 3
    assert args.min_insync_replicas == 2
    # The topic prefix reaches the Job the way it reaches the services.
    assert {"configMapRef": {"name": "loket-common"}} in spec["envFrom"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_signs_in_to_kafka_as_its_own_principal(service: str) -> None:
    secret = kubernetes_objects("Secret")[f"loket-{service}"]["stringData"]
    assert secret["KAFKA_USERNAME"] == service and secret["KAFKA_PASSWORD"]
    data = kubernetes_objects("ConfigMap")["loket-common"]["data"]
    assert data["KAFKA_SECURITY_PROTOCOL"].startswith("SASL_")
    assert data["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-256"


def test_the_jobs_create_topics_and_acls_as_the_admin() -> None:
    jobs = kubernetes_objects("Job")
    assert kubernetes_objects("Secret")["loket-kafka-admin"]["stringData"]["KAFKA_USERNAME"]
    for name, module in (("create-topics", "tools.infra.create_topics"),
                         ("kafka-acls", "tools.infra.kafka_acls")):
        (spec,) = jobs[name]["spec"]["template"]["spec"]["containers"]
        assert spec["command"][:3] == ["python", "-m", module]
        assert {"secretRef": {"name": "loket-kafka-admin"}} in spec["envFrom"]
    (acls,) = jobs["kafka-acls"]["spec"]["template"]["spec"]["containers"]
    assert acls["command"][3] == "apply"


def test_kustomization_lists_every_manifest_but_the_example_secrets() -> None:
    (kustomization,) = [doc for _, doc in kubernetes_documents() if doc["kind"] == "Kustomization"]
    manifests = {path.name for path in KUBERNETES_DIR.glob("*.yaml")}
    expected = manifests - {"kustomization.yaml", "secrets.example.yaml"}
    assert set(kustomization["resources"]) == expected
