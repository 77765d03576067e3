"""The whole system for a benchmark, started the way the demo starts it (tools/run_demo.py).

Kafka and Keycloak are provisioned (or reused when already running), the benchmark's own
namespace is emptied (topics under `bench.`, databases `<service>_bench`), and the four
services run as separate processes on ports 8201-8204 with production settings: durable
commits, acks=all, default outbox poll and job intervals, a real issuer. Nothing here
clashes with the demo (8001-8004) or the tests (18000+).

PostgreSQL is a server of the benchmarks' own (port 55299, data in .cache/postgres-bench),
because the tooling's shared server runs with fsync, synchronous_commit and
full_page_writes off (right for tests, flattering for figures) and is usually kept
running by someone else's tests, so it cannot be restarted durable. DATABASE_URL, when
set, names another server instead.

    with running_system() as system:
        system.url("intake"), system.tokens.token("partner-ocmw-geel"), ...

Infrastructure this started is stopped at the end; what was running is left running.
One run at a time (a lock): every run resets the same namespace.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tools.infra import Infra, provision, stop_kafka
from tools.infra.kafka import broker_answers, file_lock, running_broker_pid, tail
from tools.infra.keycloak import (
    ensure_keycloak,
    keycloak_answers,
    running_keycloak_pid,
    stop_keycloak,
)
from tools.infra.postgres import OS_USER, PG_USER, READY_TIMEOUT_S, _as_server_user, _bin
from tools.infra.postgres import server_ready as postgres_answers
from tools.infra.secrets import local_secrets
from tools.infra.tokens import TokenSource
from tools.processes import ServiceProcess, service_processes, start_all, stop_all
from tools.run_demo import reset_demo_state

ROOT = Path(__file__).resolve().parents[2]
CACHE = (ROOT / ".cache").resolve()  # a worktree may link its .cache to the main one
TOPIC_PREFIX = "bench."
DATABASE_SUFFIX = "_bench"
PORTS = {"intake": 8201, "capacity": 8202, "matching": 8203, "reporting": 8204}
CEILING_PORT = 8299  # tools.bench.ceiling_app
POSTGRES_PORT = 55299
POSTGRES_DIR = CACHE / "postgres-bench"
LOG_DIR = CACHE / "logs" / "bench"
SMTP_PORTS = range(2625, 2675)  # away from the demo's sink (2525...)
LOCK_FILE = CACHE / "bench.lock"


@dataclass
class RunningSystem:
    infra: Infra
    services: dict[str, ServiceProcess]
    tokens: TokenSource
    topic_prefix: str

    def url(self, name: str) -> str:
        return self.services[name].url

    def pids(self) -> dict[str, int]:
        """Each running service's process, PostgreSQL's postmaster (when it is the
        benchmarks' own server), the broker and Keycloak (when our tooling started
        them), for `tools.bench.cpu`."""
        found = {name: service.process.pid for name, service in self.services.items()
                 if service.process is not None}
        if os.environ.get("DATABASE_URL", "").endswith(f":{POSTGRES_PORT}/postgres"):
            found["postgres"] = int((POSTGRES_DIR / "data" / "postmaster.pid")
                                    .read_text().split()[0])
        if (broker := running_broker_pid()) is not None:
            found["kafka"] = broker
        if (identity := running_keycloak_pid()) is not None:
            found["keycloak"] = identity
        return found


class _Discard:
    """Accepts every message and keeps nothing: intake mails each family its personal
    link, and a benchmark must not spend its own CPU parsing thousands of them."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        return "250 Message accepted for delivery"


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _start_mail_sink() -> Controller:
    for candidate in SMTP_PORTS:
        if not _answers(candidate):
            controller = Controller(_Discard(), hostname="127.0.0.1", port=candidate)
            controller.start()
            return controller
    raise RuntimeError(f"no free port for the benchmark's SMTP sink in {SMTP_PORTS}")


@contextmanager
def one_run_at_a_time() -> Iterator[None]:
    """Every run uses the same ports, `bench.` topics and `_bench` databases (and resets
    them), so a second run (the year replay, a run in another worktree) waits for the
    first instead of emptying its databases under it."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with LOCK_FILE.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Another benchmark run holds {LOCK_FILE}; waiting for it ...", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        taken = [port for port in (*PORTS.values(), CEILING_PORT) if _answers(port)]
        if taken:
            raise RuntimeError(f"ports {taken} are in use by something that is not a "
                               "benchmark run holding the lock; stop it first")
        yield


def _pg_ctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_as_server_user([_bin("pg_ctl"), "-D", str(POSTGRES_DIR / "data"),
                                           *args]),
                          capture_output=True, text=True, cwd=POSTGRES_DIR,
                          stdin=subprocess.DEVNULL)


def _start_durable_postgres() -> None:
    """initdb once, then start with PostgreSQL's own (durable) defaults."""
    data, log = POSTGRES_DIR / "data", POSTGRES_DIR / "postgres.log"
    POSTGRES_DIR.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(POSTGRES_DIR, OS_USER, OS_USER)  # PostgreSQL refuses to run as root
    if not (data / "PG_VERSION").exists():
        subprocess.run(_as_server_user([_bin("initdb"), "-D", str(data), "-A", "trust",
                                        "-U", PG_USER, "-E", "UTF8", "--no-locale"]),
                       check=True, capture_output=True, cwd=POSTGRES_DIR)
    options = f"-p {POSTGRES_PORT} -c listen_addresses=127.0.0.1 -k {POSTGRES_DIR}"
    started = _pg_ctl("start", "-l", str(log), "-w", "-t", str(READY_TIMEOUT_S), "-o", options)
    if started.returncode != 0:
        raise RuntimeError(f"PostgreSQL did not start on {POSTGRES_PORT}: "
                           f"{started.stderr.strip()}\nsee {log}:\n{tail(log)}")


@contextmanager
def durable_postgres() -> Iterator[None]:
    """The benchmarks' own server, durable, named by DATABASE_URL for the tooling (which
    then starts none and gives each service its database there)."""
    if "DATABASE_URL" in os.environ:
        yield  # the operator's server, as it is
        return
    with file_lock(CACHE / "postgres-bench.lock"):
        was_up = postgres_answers("127.0.0.1", POSTGRES_PORT)
        if not was_up:
            _start_durable_postgres()
    os.environ["DATABASE_URL"] = f"postgresql://{PG_USER}@127.0.0.1:{POSTGRES_PORT}/postgres"
    try:
        yield
    finally:
        del os.environ["DATABASE_URL"]
        if not was_up:
            _pg_ctl("stop", "-m", "fast", "-w")


@contextmanager
def running_system(extra_env: dict[str, str] | None = None) -> Iterator[RunningSystem]:
    """Provision, reset the bench namespace, start the four services; stop it all after."""
    with one_run_at_a_time(), durable_postgres():
        yield from _running_system(extra_env)


def _running_system(extra_env: dict[str, str] | None) -> Iterator[RunningSystem]:
    kafka_was_up = broker_answers(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    keycloak_was_up = bool(os.environ.get("OIDC_ISSUER")) or keycloak_answers()
    with ThreadPoolExecutor(1) as pool:
        identity = pool.submit(ensure_keycloak)  # the slowest; starts beside the others
        try:
            infra = asyncio.run(provision(DATABASE_SUFFIX))
            asyncio.run(reset_demo_state(infra, TOPIC_PREFIX, DATABASE_SUFFIX))
            issuer = identity.result()
            sink = _start_mail_sink()
            try:
                services = service_processes(
                    infra, LOG_DIR, PORTS,
                    extra_env={"KAFKA_TOPIC_PREFIX": TOPIC_PREFIX, "OIDC_ISSUER": issuer,
                               "SMTP_PORT": str(sink.port), **local_secrets(),
                               **(extra_env or {})})
                start_all(services)
                try:
                    yield RunningSystem(infra, services, TokenSource(issuer), TOPIC_PREFIX)
                finally:
                    stop_all(services)
            finally:
                sink.stop()
        finally:
            wait([identity])  # a provider still starting is stopped below, not left behind
            if not kafka_was_up:
                stop_kafka()
            if not keycloak_was_up:
                stop_keycloak()
