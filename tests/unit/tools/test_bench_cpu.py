"""The benchmark's CPU accounting: what a watched process burns is counted to it, the
rest of the machine's busy time to the rest, and the line names both per item."""

from __future__ import annotations

import os

from tools.bench.cpu import CpuWatch, cpu_line


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def test_the_cpu_a_watched_process_burns_is_counted_to_it() -> None:
    watch = CpuWatch({"this test": os.getpid()})
    started = own_cpu_seconds()
    watch.start()
    while own_cpu_seconds() - started < 0.3:
        sum(range(10_000))
    used = watch.stop()
    assert set(used) == {"this test", "rest of the machine"}
    assert used["this test"] >= 0.2  # /proc counts in clock ticks
    assert used["rest of the machine"] >= 0.0


def test_the_line_gives_each_part_per_item() -> None:
    line = cpu_line({"matching": 2.0, "rest of the machine": 1.0}, 1000, "place")
    assert line == ("CPU while measured, per place: matching 2.0 s (2.00 ms), "
                    "rest of the machine 1.0 s (1.00 ms); in all 3.0 s (3.00 ms per place)")
