"""The benchmark's CPU accounting: what a watched process burns is counted to it, the
rest of the machine's busy time to the rest, and the line names both per item."""

from __future__ import annotations

import os
import subprocess
import sys

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


BURN = ("import time\nstarted = time.process_time()\n"
        "while time.process_time() - started < 0.3: pass\n")


def test_a_watched_process_is_charged_for_its_children_running_or_ended() -> None:
    """PostgreSQL's backends are children of the postmaster, and come and go."""
    watch = CpuWatch({"this test": os.getpid()})
    watch.start()
    subprocess.run([sys.executable, "-c", BURN], check=True)  # ended and reaped
    running = subprocess.Popen([sys.executable, "-c", BURN + "print(flush=True)\ntime.sleep(30)"],
                               stdout=subprocess.PIPE)
    try:
        assert running.stdout is not None
        running.stdout.readline()  # it has burnt its 0.3 s and sleeps: alive at stop
        used = watch.stop()
    finally:
        running.kill()
        running.wait()
    assert used["this test"] >= 0.5


def test_the_line_gives_each_part_per_item() -> None:
    line = cpu_line({"matching": 2.0, "rest of the machine": 1.0}, 1000, "place")
    assert line == ("CPU while measured, per place: matching 2.0 s (2.00 ms), "
                    "rest of the machine 1.0 s (1.00 ms); in all 3.0 s (3.00 ms per place)")
