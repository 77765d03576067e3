"""Plain-text output of the benchmarks: a header with the machine and date, tables."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime


def header(name: str, seed: int, extra: str = "") -> None:
    print(f"== matching benchmark: {name} ==")
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, "
          f"Python {platform.python_version()}{extra}")
    print(f"date:    {datetime.now(UTC).isoformat(timespec='seconds')}   seed: {seed}   "
          f"{load()}")
    sys.stdout.flush()


def footer() -> None:
    """The load at the end: on a shared machine, wall times carry other work too."""
    print(f"{load()} at the end")
    sys.stdout.flush()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def table(headings: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Columns as wide as their widest cell; the first left-aligned, numbers right."""
    cells = [[str(h) for h in headings], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headings))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                         for i, (cell, w) in enumerate(zip(row, widths, strict=True)))

    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))
    sys.stdout.flush()


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return "-" if value is None else str(value)


def median_p90(values: Sequence[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.quantiles(values, n=10, method="inclusive")[8]


def max_rss_mib() -> float:
    """This process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"
