"""Processes our tooling started (Kafka, Keycloak): found again by their pid file."""

from __future__ import annotations

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
