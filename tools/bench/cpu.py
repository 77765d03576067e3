"""The CPU time each service used while a figure was measured, PostgreSQL's, Kafka's and
Keycloak's, and the rest of the machine's (the load generator, mostly). Steadier than a rate on a
machine whose speed drifts, and it says where the time went. Linux: read from /proc."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name ([0] is the state)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and all its descendants, live or ended: PostgreSQL forks
    a backend per connection, and an ended backend's time moves to the postmaster's
    cutime/cstime when it is reaped (so the sum stays steady across a window)."""
    stats = {int(entry.name): _stat(int(entry.name))
             for entry in Path("/proc").iterdir() if entry.name.isdigit()}
    children: dict[int, list[int]] = {}
    for child, fields in stats.items():
        if fields:
            children.setdefault(int(fields[1]), []).append(child)
    total, unvisited = 0.0, [pid]
    while unvisited:
        member = unvisited.pop()
        unvisited.extend(children.get(member, ()))
        if fields := stats.get(member, []):
            total += sum(int(ticks) for ticks in fields[11:15]) / TICKS  # own + reaped children
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling or waiting for I/O."""
    ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    return (sum(ticks[:8]) - idle - iowait) / TICKS  # user … steal; guests are in user


@dataclass
class CpuWatch:
    """`start`, measure, `stop`: CPU seconds per service and for the rest of the machine."""

    pids: Mapping[str, int]
    _start: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._start = self._now()

    def stop(self) -> dict[str, float]:
        now = self._now()
        used = {name: now[name] - self._start[name] for name in now}
        machine = used.pop("machine")
        used["rest of the machine"] = max(0.0, machine - sum(used.values()))
        return used

    def _now(self) -> dict[str, float]:
        found = {name: tree_seconds(pid) for name, pid in self.pids.items()}
        found["machine"] = machine_busy_seconds()
        return found


def cpu_line(used: Mapping[str, float], items: int, unit: str) -> str:
    """'CPU while measured: intake 12.3 s (6.2 ms), …; in all … (… ms per request), …'"""
    parts = [f"{name} {seconds:.1f} s ({1000 * seconds / items:.2f} ms)"
             for name, seconds in used.items()]
    total = sum(used.values())
    return (f"CPU while measured, per {unit}: " + ", ".join(parts)
            + f"; in all {total:.1f} s ({1000 * total / items:.2f} ms per {unit})")
