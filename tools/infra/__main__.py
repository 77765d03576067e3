"""`python -m tools.infra up|down|status`: local Kafka + PostgreSQL for development."""

from __future__ import annotations

import argparse
import asyncio
import os
import time

import asyncpg

from tools.infra import SERVICES, provision
from tools.infra.kafka import LOCAL_BOOTSTRAP, PID_FILE, SERVER_LOG, broker_answers, stop_kafka
from tools.infra.postgres import admin_url, base_dir, stop_postgres


def up(suffix: str) -> None:
    started = time.monotonic()
    infra = asyncio.run(provision(suffix))
    print(f"KAFKA_BOOTSTRAP_SERVERS={infra.bootstrap_servers}")
    print(f"admin database: {infra.admin_database_url}")
    for service, url in infra.database_urls.items():
        print(f"{service:>10}: {url}")
    print(f"ready in {time.monotonic() - started:.1f}s")


def down() -> None:
    print("kafka:", "stopped" if stop_kafka() else "not started by this tooling")
    print("postgres:", "stopped" if stop_postgres() else "not running from our data dir")


async def _databases(url: str) -> list[str]:
    conn = await asyncpg.connect(url, timeout=3)
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE NOT datistemplate")
    finally:
        await conn.close()
    return sorted(row["datname"] for row in rows)


def status() -> None:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", LOCAL_BOOTSTRAP)
    state = "up" if broker_answers(bootstrap) else "down"
    pid = PID_FILE.read_text().strip() if PID_FILE.exists() else "-"
    print(f"kafka {bootstrap}: {state} (our pid: {pid}, log: {SERVER_LOG})")
    data = base_dir() / "data"
    if "DATABASE_URL" not in os.environ and not (data / "postmaster.pid").exists():
        print(f"postgres: down (data dir: {data})")
        return
    url = admin_url()
    try:
        names = asyncio.run(_databases(url))
    except (OSError, asyncpg.PostgresError) as error:
        print(f"postgres {url}: not answering ({error})")
        return
    ours = [n for n in names if n.startswith(SERVICES)]
    print(f"postgres {url}: up (data dir: {data}); service databases: {', '.join(ours)}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.infra", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--suffix", default="", help="database name suffix, e.g. _test")
    args = parser.parse_args()
    if args.command == "up":
        up(args.suffix)
    elif args.command == "down":
        down()
    else:
        status()


if __name__ == "__main__":
    main()
