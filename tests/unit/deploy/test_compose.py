"""docker-compose.yml runs the same system as the local launcher: same settings, ports, topics."""

from __future__ import annotations

import shlex

import pytest
from sqlalchemy.engine import make_url

from tests.unit.deploy.material import (
    ROOT,
    SERVICES,
    compose,
    compose_env,
    default_port,
    environment_names,
    raw_compose,
    settings_class,
)
from tools.infra.create_topics import build_parser

INFRASTRUCTURE = ("kafka", "postgres", "create-topics", "prometheus", "grafana")


def healthcheck_command(service: str) -> str:
    test = compose()["services"][service]["healthcheck"]["test"]
    if isinstance(test, str):
        return test
    assert test[0] in ("CMD", "CMD-SHELL"), test
    return test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])


def test_compose_has_the_services_and_their_infrastructure() -> None:
    assert set(SERVICES) | set(INFRASTRUCTURE) <= set(compose()["services"])


@pytest.mark.parametrize("service", SERVICES)
def test_service_runs_its_module_from_the_one_image(service: str) -> None:
    spec = compose()["services"][service]
    assert spec["command"] == ["python", "-m", f"services.{service}"]
    assert spec["image"] == compose()["services"]["create-topics"]["image"]
    assert spec["build"]["context"] == "."
    assert (ROOT / "Dockerfile").is_file()


@pytest.mark.parametrize("service", SERVICES)
def test_service_waits_for_healthy_infrastructure_and_created_topics(service: str) -> None:
    depends_on = compose()["services"][service]["depends_on"]
    assert depends_on["postgres"]["condition"] == "service_healthy"
    assert depends_on["kafka"]["condition"] == "service_healthy"
    assert depends_on["create-topics"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", SERVICES)
def test_service_port_is_the_settings_default(service: str) -> None:
    port = default_port(service)
    spec = compose()["services"][service]
    assert spec["ports"] == [f"{port}:{port}"]
    assert compose_env(service)[f"{service.upper()}_PORT"] == str(port)
    assert compose_env(service)["HTTP_HOST"] == "0.0.0.0"


def test_ports_are_the_local_launchers() -> None:
    from tools.processes import DEFAULT_PORTS

    published = {name: compose()["services"][name]["ports"][0].split(":")[-1] for name in SERVICES}
    assert published == {name: str(port) for name, port in DEFAULT_PORTS.items()}


@pytest.mark.parametrize("service", SERVICES)
def test_service_healthcheck_asks_readiness_with_python(service: str) -> None:
    command = healthcheck_command(service)
    assert command.startswith("python "), "python:3.11-slim has no curl or wget"
    assert f"http://127.0.0.1:{default_port(service)}/readyz" in command


@pytest.mark.parametrize("service", SERVICES)
def test_service_env_reaches_kafka_and_its_own_database(service: str) -> None:
    env = compose_env(service)
    advertised = compose_env("kafka")["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert "PLAINTEXT://kafka:9092" in advertised.split(",")

    url = make_url(env["DATABASE_URL"])
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port, url.database) == ("postgres", 5432, service)
    # The init script makes one role per service, with the password postgres is given.
    assert url.username == service
    assert url.password == compose_env("postgres")[f"{service.upper()}_DB_PASSWORD"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_env_names_are_settings_the_service_reads(service: str) -> None:
    unknown = set(compose_env(service)) - environment_names(settings_class(service))
    assert not unknown, f"{service} does not read {sorted(unknown)}"


def test_child_ref_key_comes_from_the_environment() -> None:
    raw = raw_compose()["services"]["intake"]["environment"]["CHILD_REF_KEY"]
    assert raw.startswith("${CHILD_REF_KEY:-") and raw.endswith("}")
    assert "CHILD_REF_KEY" not in compose_env("matching")


def test_kafka_is_the_official_image_in_kraft_mode() -> None:
    kafka = compose()["services"]["kafka"]
    env = compose_env("kafka")
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    for name, value in env.items():
        if name.endswith(("_REPLICATION_FACTOR", "_MIN_ISR")):
            assert value == "1", name
    assert "kafka-broker-api-versions.sh" in healthcheck_command("kafka")


def test_postgres_creates_one_database_per_service() -> None:
    postgres = compose()["services"]["postgres"]
    assert postgres["image"] == "postgres:16"
    assert healthcheck_command("postgres").startswith("pg_isready")
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in postgres["volumes"]}
    init_dir = ROOT / mounts["/docker-entrypoint-initdb.d"]
    scripts = sorted(init_dir.glob("*.sh")) + sorted(init_dir.glob("*.sql"))
    assert scripts, f"no init script in {init_dir}"
    text = "\n".join(script.read_text() for script in scripts)
    assert "for service in intake capacity matching reporting" in text
    assert "CREATE DATABASE" in text


def test_create_topics_runs_once_against_the_in_network_broker() -> None:
    spec = compose()["services"]["create-topics"]
    assert spec["command"][:3] == ["python", "-m", "tools.infra.create_topics"]
    args = build_parser().parse_args(spec["command"][3:])
    assert args.bootstrap == compose_env(SERVICES[0])["KAFKA_BOOTSTRAP_SERVERS"]
    assert args.replication_factor == 1
    assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert spec.get("restart", "no") == "no"


def test_dockerfile_builds_a_locked_non_root_image() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM ${PYTHON_IMAGE}" in text and "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "uv sync --frozen --no-dev" in text
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".cache", ".git"} <= set(ignored)
