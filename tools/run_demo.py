"""The main job: the whole system with demo data, on this machine.

Starts Kafka and PostgreSQL (or uses KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL),
creates the topics and databases, starts the four services as separate
processes, seeds the demo service area, prints the URLs, and on Ctrl-C stops
the services (they drain and commit) and the infrastructure it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from pathlib import Path

import httpx

from tools.demo.seed import seed
from tools.infra import provision, stop_kafka, stop_postgres
from tools.infra.kafka import broker_answers
from tools.infra.postgres import port, server_ready
from tools.processes import service_processes, start_all, stop_all

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".cache" / "logs"


def main() -> None:
    # Leave running what was running before (another terminal's broker, say).
    kafka_was_up = broker_answers(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    postgres_was_up = server_ready("127.0.0.1", port())
    print("Starting Kafka and PostgreSQL ...", flush=True)
    infra = asyncio.run(provision())
    services = service_processes(infra, LOG_DIR)
    print("Starting intake, capacity, matching and reporting ...", flush=True)
    start_all(services)
    try:
        counts = asyncio.run(
            seed(services["intake"].url, services["capacity"].url, infra.bootstrap_servers)
        )
        print(f"Seeded the demo area Geel-Laakdal-Meerhout: {counts}", flush=True)
        for name, service in services.items():
            health = httpx.get(f"{service.url}/healthz", timeout=5).json()["status"]
            print(f"  {name:<10} {service.url}  (health: {health}, API docs: {service.url}/docs)")
        print(f"  Registratiecijfers (NL): {services['reporting'].url}/")
        print(f"  Kafka: {infra.bootstrap_servers}   logs: {LOG_DIR}")
        print("Press Ctrl-C to stop.", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    finally:
        print("\nStopping services ...", flush=True)
        stop_all(services)
        if not kafka_was_up:
            stop_kafka()
        if not postgres_was_up:
            stop_postgres()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    main()
