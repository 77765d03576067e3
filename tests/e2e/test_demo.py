"""The README's run command: the demo comes up seeded, answers, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import select
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx

from contracts.topics import with_prefix
from tests.conftest import Servers
from tests.kafka_helpers import delete_topics

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"intake": 28001, "capacity": 28002, "matching": 28003, "reporting": 28004}


def read_until(process: subprocess.Popen[str], marker: str, seconds: float) -> str:
    assert process.stdout is not None
    seen = ""
    deadline = time.monotonic() + seconds
    while marker not in seen:
        if time.monotonic() > deadline or process.poll() is not None:
            raise AssertionError(f"no {marker!r} from the demo; it printed:\n{seen}")
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if ready:
            seen += process.stdout.readline()
    return seen


def test_the_demo_comes_up_seeded_and_stops_cleanly_on_ctrl_c(servers: Servers) -> None:
    prefix = f"demo-{uuid.uuid4().hex[:8]}."
    env = os.environ | {f"{name.upper()}_PORT": str(port) for name, port in PORTS.items()} | {
        "KAFKA_BOOTSTRAP_SERVERS": servers.bootstrap, "KAFKA_TOPIC_PREFIX": prefix,
        "DEMO_DATABASE_SUFFIX": "_demotest"}
    demo = subprocess.Popen([str(ROOT / "bin" / "demo")], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        output = read_until(demo, "Press Ctrl-C to stop.", seconds=240)
        seeded = re.search(r"'requests': (\d+)", output)
        assert seeded and int(seeded.group(1)) > 100, output
        for name, port in PORTS.items():
            assert f"http://127.0.0.1:{port}" in output
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok", name
        figures = httpx.get(f"http://127.0.0.1:{PORTS['reporting']}/figures").json()
        names = {row["name"] for row in figures["municipalities"]}
        assert {"Geel", "Laakdal", "Meerhout"} <= names

        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        remaining, _ = demo.communicate(timeout=90)
        assert demo.returncode == 0, remaining
        assert "Stopped." in remaining
        for port in PORTS.values():
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                raise AssertionError(f"port {port} still answers after the demo stopped")
            except httpx.TransportError:
                pass
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        asyncio.run(delete_topics(servers.bootstrap, [spec.name for spec in with_prefix(prefix)]))
