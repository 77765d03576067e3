"""docker-compose.yml runs the same system as the local launcher: same settings, ports, topics."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from types import SimpleNamespace

import pytest
from aiokafka.admin import NewTopic
from sqlalchemy.engine import make_url

from contracts.topics import (
    CAPACITY,
    DAY_MS,
    FOREVER,
    MATCHES,
    REQUESTS,
    TOPICS,
    organiser_inbound_topic,
)
from tests.unit.deploy.material import (
    ROOT,
    SERVICES,
    compose,
    compose_env,
    default_port,
    environment_names,
    settings_class,
)
from tools.infra import create_topics
from tools.infra import topics as topics_module
from tools.infra.create_topics import build_parser
from tools.infra.kafka_principals import DEMO_ORGANISERS, PRINCIPALS

INFRASTRUCTURE = ("kafka", "postgres", "create-topics", "kafka-acls", "prometheus", "grafana")


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
    assert depends_on["kafka-acls"]["condition"] == "service_completed_successfully"


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


def run_healthcheck(service: str, status: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Runs the service's healthcheck (python -c CODE, as in the image) against a fake
    server answering `status`; returns the URLs it asked. Raises if the check fails."""
    test = compose()["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD" and test[1:3] == ["python", "-c"], (
        "python:3.11-slim has no curl or wget: the check runs python -c")
    asked: list[str] = []

    def urlopen(url: str, timeout: float | None = None) -> io.BytesIO:
        asked.append(url)
        if status >= 400:
            raise urllib.error.HTTPError(url, status, "not ready", Message(), None)
        return io.BytesIO(b"{}")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    exec(compile(test[3], f"{service} healthcheck", "exec"), {})
    return asked


@pytest.mark.parametrize("service", SERVICES)
def test_service_healthcheck_passes_only_when_readiness_answers_200(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{default_port(service)}/readyz"
    assert run_healthcheck(service, 200, monkeypatch) == [url]
    with pytest.raises(urllib.error.HTTPError):  # python -c exits non-zero: unhealthy
        run_healthcheck(service, 503, monkeypatch)


@pytest.mark.parametrize("service", SERVICES)
def test_service_env_reaches_kafka_and_its_own_database(service: str) -> None:
    env = compose_env(service)
    advertised = compose_env("kafka")["KAFKA_ADVERTISED_LISTENERS"]
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert "SASL_PLAINTEXT://kafka:9092" in advertised.split(",")
    # Signed in as its own principal, with the password the broker was formatted with.
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
    assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-256"
    assert env["KAFKA_USERNAME"] == service
    assert env["KAFKA_PASSWORD"] == compose_env("kafka")[f"SCRAM_{service.upper()}_PASSWORD"]

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


def test_secrets_come_from_the_environment_when_set() -> None:
    given = {"CHILD_REF_KEY": "operator-key", "INTAKE_DB_PASSWORD": "operator-password"}
    intake = compose_env("intake", given)
    assert intake["CHILD_REF_KEY"] == "operator-key"
    assert make_url(intake["DATABASE_URL"]).password == "operator-password"
    assert compose_env("postgres", given)["INTAKE_DB_PASSWORD"] == "operator-password"
    assert compose_env("intake")["CHILD_REF_KEY"] != "operator-key"  # a placeholder otherwise
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


def test_kafka_signs_everyone_in_and_allows_only_what_the_acls_say() -> None:
    env = compose_env("kafka")
    protocols = dict(item.split(":") for item in
                     env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert protocols == {"SASL_PLAINTEXT": "SASL_PLAINTEXT", "CONTROLLER": "PLAINTEXT",
                         "HOST": "SASL_PLAINTEXT"}
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-256"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_SUPER_USERS"].split(";")) == {
        "User:broker", "User:admin", "User:ANONYMOUS"}
    # The start script formats the storage with one SCRAM user per principal.
    script = (ROOT / "deploy/kafka/start-with-scram-users.sh").read_text()
    for name in PRINCIPALS:
        assert name in script, name
        assert env[f"SCRAM_{name.upper().replace('-', '_')}_PASSWORD"], name
    assert compose()["services"]["kafka"]["command"][-1].endswith(
        "start-with-scram-users.sh")


def test_the_acl_job_applies_the_table_as_the_admin() -> None:
    spec = compose()["services"]["kafka-acls"]
    assert spec["command"][:4] == ["python", "-m", "tools.infra.kafka_acls", "apply"]
    assert spec["depends_on"]["create-topics"]["condition"] == "service_completed_successfully"
    env = compose_env("kafka-acls")
    assert env["KAFKA_USERNAME"] == "admin"
    assert env["KAFKA_PASSWORD"] == compose_env("kafka")["SCRAM_ADMIN_PASSWORD"]
    assert compose_env("create-topics")["KAFKA_USERNAME"] == "admin"


PSQL_STUB = """#!/usr/bin/env bash
# Records each call: its -v variables on one line, then the SQL it was given.
args=""
while [ $# -gt 0 ]; do
  if [ "$1" = "-v" ]; then args="$args $2"; shift; fi
  shift
done
{ echo "CALL$args"; cat; } >> "$PSQL_LOG"
"""


def test_postgres_init_creates_each_services_role_and_database_with_its_password(
    tmp_path: Path,
) -> None:
    postgres = compose()["services"]["postgres"]
    assert postgres["image"] == "postgres:16"
    assert healthcheck_command("postgres").startswith("pg_isready")
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in postgres["volumes"]}
    init_dir = ROOT / mounts["/docker-entrypoint-initdb.d"]
    scripts = sorted(init_dir.glob("*.sh"))
    assert scripts, f"no init script in {init_dir}"
    stub = tmp_path / "psql"
    stub.write_text(PSQL_STUB)
    stub.chmod(0o755)
    log = tmp_path / "psql.log"
    env = {**compose_env("postgres"), "PATH": f"{tmp_path}:{os.environ['PATH']}",
           "PSQL_LOG": str(log)}
    for script in scripts:
        subprocess.run(["bash", str(script)], env=env, check=True, capture_output=True)
    calls = [call.splitlines() for call in log.read_text().split("CALL ")[1:]]
    created = {}
    for head, *sql in calls:
        variables = dict(item.split("=", 1) for item in head.split())
        statements = " ".join(sql)
        assert 'CREATE DATABASE :"service" OWNER :"service"' in statements
        assert "CREATE ROLE :\"service\" LOGIN PASSWORD :'password'" in statements
        created[variables["service"]] = variables["password"]
    # Each service's DATABASE_URL logs in as that role, with that password, to that database.
    expected = {}
    for service in SERVICES:
        url = make_url(compose_env(service)["DATABASE_URL"])
        assert url.username == url.database == service
        expected[service] = url.password
    assert created == expected


def test_create_topics_runs_once_against_the_in_network_broker() -> None:
    spec = compose()["services"]["create-topics"]
    assert spec["command"][:3] == ["python", "-m", "tools.infra.create_topics"]
    args = build_parser().parse_args(spec["command"][3:])
    assert args.bootstrap == compose_env(SERVICES[0])["KAFKA_BOOTSTRAP_SERVERS"]
    assert args.replication_factor == 1
    assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert spec.get("restart", "no") == "no"


class RecordingAdmin:
    """Kafka's admin client as an empty broker that creates what it is asked to."""

    created: dict[str, NewTopic] = {}

    def __init__(self, **_: object) -> None:
        pass

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def list_topics(self) -> list[str]:
        return list(self.created)

    async def create_topics(self, new_topics: list[NewTopic]) -> SimpleNamespace:
        self.created.update({topic.name: topic for topic in new_topics})
        return SimpleNamespace(topic_errors=[(topic.name, 0, None) for topic in new_topics])

    async def describe_topics(self, names: list[str]) -> list[dict[str, object]]:
        return [{"topic": name, "error_code": 0,
                 "partitions": [{}] * self.created[name].num_partitions} for name in names]


def test_create_topics_creates_exactly_the_declared_topics_with_their_retention(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(RecordingAdmin, "created", {})
    monkeypatch.setattr(topics_module, "AIOKafkaAdminClient", RecordingAdmin)
    monkeypatch.setattr(create_topics, "AIOKafkaAdminClient", RecordingAdmin)
    monkeypatch.setattr(create_topics, "wait_for_broker", lambda *_, **__: None)
    monkeypatch.delenv("KAFKA_TOPIC_PREFIX", raising=False)
    command = compose()["services"]["create-topics"]["command"]
    assert command[:3] == ["python", "-m", "tools.infra.create_topics"]
    assert create_topics.main(command[3:]) == 0

    created = RecordingAdmin.created
    prefix = compose_env(SERVICES[0]).get("KAFKA_TOPIC_PREFIX", "")
    organisers = {f"{prefix}{organiser_inbound_topic(o)}" for o in DEMO_ORGANISERS}
    assert set(created) == {f"{prefix}{spec.name}" for spec in TOPICS} | organisers
    for spec in TOPICS:
        topic = created[f"{prefix}{spec.name}"]
        assert topic.num_partitions == spec.partitions, spec.name
        assert topic.replication_factor == 1
        # Explicit on every topic: the broker's default would delete after 7 days.
        retention = int(topic.topic_configs["retention.ms"])
        assert retention == spec.retention_ms, spec.name
        assert retention == -1 or retention >= DAY_MS, spec.name
    kept_forever = {spec.name for spec in TOPICS if spec.retention_ms == FOREVER}
    assert {REQUESTS.name, CAPACITY.name, MATCHES.name} <= kept_forever  # reporting replays


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    joined = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in joined.splitlines()]
    return [(line.split()[0].upper(), line.partition(" ")[2]) for line in lines
            if line and not line.startswith("#")]


def test_dockerfile_builds_a_locked_non_root_image() -> None:
    instructions = dockerfile_instructions()
    syncs = [shlex.split(args) for name, args in instructions if name == "RUN" and "uv" in args]
    uv_syncs = [words[words.index("sync"):] for words in syncs if "sync" in words]
    assert uv_syncs, "the image installs its dependencies with uv sync"
    for words in uv_syncs:  # exactly what uv.lock pins, without the dev tools
        assert "--frozen" in words and "--no-dev" in words, words
    stages = [i for i, (name, _) in enumerate(instructions) if name == "FROM"]
    final_stage = instructions[stages[-1]:]
    users = [args.split(":")[0] for name, args in final_stage if name == "USER"]
    assert users and users[-1] not in ("root", "0"), "the final image runs as non-root"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".cache", ".git"} <= set(ignored)


@pytest.mark.parametrize("service", SERVICES)
def test_services_accept_tokens_of_the_composes_identity_provider(service: str) -> None:
    env = compose_env(service)
    assert env["OIDC_ISSUER"] == "http://localhost:8180/realms/loket"
    assert env["OIDC_DISCOVERY_URL"] == "http://keycloak:8080/realms/loket"
    keycloak = compose()["services"]["keycloak"]
    assert "--import-realm" in keycloak["command"]
    assert "--hostname=http://localhost:8180" in keycloak["command"]
    assert any(volume.startswith("./deploy/keycloak/loket-realm.json:/opt/keycloak/data/import/")
               for volume in keycloak["volumes"])
