"""Processes our tooling started (Kafka, Keycloak): found again by their pid file."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def live_pid(pid_file: Path, marker: bytes) -> int | None:
    """The pid in `pid_file` if that process is still alive and its command line holds
    `marker` (so a recycled pid is not taken for ours)."""
    try:
        pid = int(pid_file.read_text())
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    # cmdline is briefly empty while the child execs java; zombies ('Z') count as dead.
    return pid if state != "Z" and (not cmdline or marker in cmdline) else None


def stop_started(pid_file: Path, marker: bytes, timeout: float = 30.0) -> bool:
    """Stop a process we started in its own session (so its group id is its pid):
    SIGTERM, SIGKILL after `timeout`. False if it was not running."""
    pid = live_pid(pid_file, marker)
    if pid is None:
        pid_file.unlink(missing_ok=True)  # stale: it already died
        return False
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while live_pid(pid_file, marker) is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    if live_pid(pid_file, marker) is not None:
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)
    return True
