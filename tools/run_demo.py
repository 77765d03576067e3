"""The main job: the whole system with demo data, on this machine.

Starts Kafka and PostgreSQL (or uses KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL),
creates the topics and databases, starts the four services as separate
processes, seeds the demo service area, prints the URLs, and on Ctrl-C stops
the services (they drain and commit) and the infrastructure it started.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from pathlib import Path

import httpx

from contracts.topics import TOPICS
from tools.demo.seed import seed
from tools.infra import SERVICES, Infra, create_database, provision, stop_kafka, stop_postgres
from tools.infra.kafka import broker_answers
from tools.infra.postgres import port, server_ready
from tools.infra.topics import recreate_topics
from tools.processes import service_processes, start_all, stop_all

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / ".cache" / "logs"


def wait_for_stop_signal() -> None:
    """Ctrl-C (SIGINT) or SIGTERM; the services run in their own sessions, so the
    signal reaches only this launcher, which then stops them in order."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


async def reset_demo_state(infra: Infra) -> None:
    """A fresh demo each run: empty service databases and topics (local broker only)."""
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        await recreate_topics(infra.bootstrap_servers, TOPICS)
    for name in SERVICES:
        await create_database(infra.admin_database_url, name, drop_existing=True)


def main() -> None:
    # Leave running what was running before (another terminal's broker, say).
    kafka_was_up = broker_answers(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    postgres_was_up = server_ready("127.0.0.1", port())
    print("Starting Kafka and PostgreSQL ...", flush=True)
    infra = asyncio.run(provision())
    if "--keep" not in sys.argv:
        print("Resetting the demo data (run with --keep to keep it) ...", flush=True)
        asyncio.run(reset_demo_state(infra))
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
        wait_for_stop_signal()
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
