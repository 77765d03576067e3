"""Start the four services as separate OS processes, wait until they are ready, stop them.

Used by the demo launcher and the end-to-end tests, so both run the system the
same way an operator would: one process per service, settings from the environment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools.infra import Infra
from tools.infra.kafka import tail
from tools.infra.kafka_principals import client_env

DEFAULT_PORTS = {"intake": 8001, "capacity": 8002, "matching": 8003, "reporting": 8004}


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{self.name}"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM: the service drains in-flight messages, commits and flushes its outbox."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; "
                                   f"see {self.log_path}:\n{tail(self.log_path, lines=15)}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{self.name} not ready after {timeout:.0f}s; see {self.log_path}:\n"
                           f"{tail(self.log_path, lines=15)}")


def service_processes(
    infra: Infra, log_dir: Path, ports: dict[str, int] | None = None,
    extra_env: dict[str, str] | None = None,
) -> dict[str, ServiceProcess]:
    ports = ports or DEFAULT_PORTS
    log_dir.mkdir(parents=True, exist_ok=True)
    base = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    base |= {"KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers, "PYTHONUNBUFFERED": "1"}
    base |= {f"{name.upper()}_PORT": str(port) for name, port in ports.items()}
    # Pages link to each other's service; an intake mail links to intake's pages.
    base |= {"SERVICE_URLS": ",".join(f"{name}=http://127.0.0.1:{port}"
                                      for name, port in ports.items()),
             "INTAKE_PUBLIC_URL": f"http://127.0.0.1:{ports['intake']}"}
    base |= extra_env or {}
    # Each service signs in as its own principal (its ACLs) with the local passwords,
    # unless the environment configures Kafka security itself (a real cluster).
    local_kafka = not os.environ.get("KAFKA_SECURITY_PROTOCOL")
    return {
        name: ServiceProcess(
            name, ports[name],
            base | (client_env(name) if local_kafka else {})
            | {"DATABASE_URL": infra.database_urls[name]},
            log_dir / f"{name}.log",
        )
        for name in DEFAULT_PORTS
    }


def start_all(services: dict[str, ServiceProcess]) -> None:
    for service in services.values():
        service.start()
    try:
        for service in services.values():
            service.wait_ready()
    except Exception:
        stop_all(services)
        raise


def stop_all(services: dict[str, ServiceProcess]) -> None:
    for service in services.values():
        service.stop()
