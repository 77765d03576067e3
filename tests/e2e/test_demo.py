"""The README's run command: the demo comes up seeded, answers, and stops on Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import Servers
from tests.kafka_helpers import delete_topics
from tools.infra.kafka_acls import revoke_acls
from tools.infra.tokens import TokenSource
from tools.infra.topics import namespace_topics

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"intake": 28001, "capacity": 28002, "matching": 28003, "reporting": 28004}


class OutputReader:
    """Collects the demo's output in a thread, so waiting for a line never blocks."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.text = ""
        self._process = process
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self.text += line

    def wait_for(self, marker: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while marker not in self.text:
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise AssertionError(f"no {marker!r} from the demo; it printed:\n{self.text}")
            time.sleep(0.2)
        return self.text

    def rest(self, seconds: float) -> str:
        self._process.wait(seconds)
        self._thread.join(5)
        return self.text


def test_the_demo_comes_up_seeded_and_stops_cleanly_on_ctrl_c(
    servers: Servers, identity_provider: str
) -> None:
    prefix = f"demo-{uuid.uuid4().hex[:8]}."
    env = os.environ | {f"{name.upper()}_PORT": str(port) for name, port in PORTS.items()} | {
        "KAFKA_BOOTSTRAP_SERVERS": servers.bootstrap, "KAFKA_TOPIC_PREFIX": prefix,
        "DEMO_DATABASE_SUFFIX": "_demotest", "OIDC_ISSUER": identity_provider}
    demo = subprocess.Popen([str(ROOT / "bin" / "demo")], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        output = OutputReader(demo)
        printed = output.wait_for("Press Ctrl-C to stop.", seconds=240)
        seeded = re.search(r"'requests': (\d+)", printed)
        assert seeded and int(seeded.group(1)) > 100, printed
        for name, port in PORTS.items():
            assert f"http://127.0.0.1:{port}" in printed
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").json()["status"] == "ok", name
        # Every route asks who you are; the demo says how to sign in.
        figures_url = f"http://127.0.0.1:{PORTS['reporting']}/figures"
        assert httpx.get(figures_url).status_code == 401
        assert "coordinator.jan" in printed and "tools.infra.tokens balie.els" in printed
        token = TokenSource(identity_provider).token("opgroeien.kim")
        figures = httpx.get(figures_url, headers={"Authorization": f"Bearer {token}"}).json()
        names = {row["name"] for row in figures["municipalities"]}
        assert {"Geel", "Laakdal", "Meerhout"} <= names
        # Families and organisers answered: the figures show placed, declined and refused.
        [area] = figures["service_areas"]
        assert area["placed"] >= 1 and area["declined_by_family"] >= 1, area
        assert area["refused_age_group_full"] >= 1 and area["enrolled_mon_am"] > 0, area
        # ...and the demo shows the mail it sent (to its local SMTP sink).
        sent = re.search(r"Sent mail: (\d+) messages", printed)
        assert sent and int(sent.group(1)) > 0, printed
        assert "Een plaats voor" in printed  # an offer, in Dutch

        os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        everything = output.rest(90)
        assert demo.returncode == 0, everything
        assert "Stopped." in everything
        for port in PORTS.values():
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                raise AssertionError(f"port {port} still answers after the demo stopped")
            except httpx.TransportError:
                pass
    finally:
        if demo.poll() is None:  # a failed assertion: let the launcher stop its services
            os.killpg(demo.pid, signal.SIGTERM)
            try:
                demo.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
        asyncio.run(delete_topics(servers.bootstrap,
                                  [spec.name for spec in namespace_topics(prefix)]))
        revoke_acls(servers.bootstrap, prefix)
