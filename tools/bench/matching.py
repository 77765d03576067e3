"""Matching benchmarks: `uv run python -m tools.bench.matching {continuous,round,fairness,all}`.

They print figures (machine, date, a table, the ratio or verdict against the
target) and assert nothing about time.

- continuous: one PlaceFreed handled by the real handler over the real SQL unit of
  work, at 1,000 and at 100,000 waiting requests in one area (arrondissement
  Turnhout). Target: median(100k) / median(1k) at most 2.
- round: `run_round` end to end over PostgreSQL for 10,000 requests with up to 5
  choices over 300 locations. Target: at most 10 s and 1 GiB.
- fairness: one round in memory over Turnhout's real population (births for a
  year): deferred acceptance against first come, first served.
- all: the three in turn, each in its own process (so each peak memory is its own).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from unittest.mock import patch

from contracts import new_event
from contracts.events import MatchProposed, PlaceFreed
from contracts.schedule import FULL_WEEK
from loketkit.ids import Clock, new_id
from services.matching import rounds as rounds_module
from services.matching.adapters.uow import SqlMatchingUnitOfWork
from services.matching.domain.area_settings import OfferSettings
from services.matching.domain.ranking import Ranking
from services.matching.domain.rounds import RoundPlan, plan_round
from services.matching.handlers import on_place_freed
from services.matching.rounds import RunRound, run_round
from tools.bench.area import Area, generate
from tools.bench.report import footer, header, max_rss_mib, median_p90, table, verdict
from tools.bench.store import bench_database, empty, seed

DEFAULT_SEED = 20260501
AREA = "Turnhout"  # one loket's area: 27 municipalities, ~465,000 inhabitants
SIZES = (1000, 100_000)
EVENTS, WARM_UP = 200, 20
# Age ranges of freed places: mostly every age, some a babies' or toddlers' group.
AGE_RANGES = ((0, 36), (0, 36), (0, 36), (0, 18), (0, 12), (6, 24), (12, 36))
RATIO_TARGET = 2.0
ROUND_REQUESTS, ROUND_LOCATIONS = 10_000, 300
ROUND_SECONDS, ROUND_MIB = 10.0, 1024.0


def _morning(day: date) -> datetime:
    """The benchmarks' "now": 08:00 UTC on the decision date (10:00 in Brussels)."""
    return datetime.combine(day, clock_time(8), tzinfo=UTC)


def fixed_clock(now: datetime) -> Clock:
    return lambda: now


# --- continuous ------------------------------------------------------------------------------


def freed_places(area: Area, count: int, seed_value: int) -> list[PlaceFreed]:
    """Places freed at random locations of the area, starting in the round period, with
    varied age ranges; the same for every size (their own random stream)."""
    rng = random.Random(f"{seed_value}:events")
    days = (area.period_to - area.period_from).days + 1
    found: list[PlaceFreed] = []
    for number in range(count):
        site = rng.choice(area.sites)
        low, high = rng.choice(AGE_RANGES)
        found.append(PlaceFreed(
            service_area=area.service_area, place_id=f"freed-{number + 1:04d}",
            location_id=site.location.location_id,
            municipality_nis=site.location.municipality_nis,
            available_from=area.period_from + timedelta(days=rng.randrange(days)),
            min_age_months=low, max_age_months=high, day_parts=list(FULL_WEEK),
            freed_at=_morning(area.decision)))
    return found


async def continuous(seed_value: int, sizes: Sequence[int], events: int, warm_up: int) -> None:
    async with bench_database() as (sessions, version):
        header("continuous", seed_value, f", PostgreSQL {version}")
        print(f"One PlaceFreed through on_place_freed over SqlMatchingUnitOfWork, one unit of "
              f"work each (inbox check, handler, mark applied, commit); {warm_up} warm-up "
              f"events, then {events} timed, per size.")
        rows: list[list[object]] = []
        medians: dict[int, float] = {}
        for size in sizes:
            area = generate(seed_value, arrondissements=[AREA], requests=size,
                            places_per_request=0)
            clock = fixed_clock(_morning(area.decision))
            await empty(sessions)
            started = time.perf_counter()
            counts = await seed(sessions, area, Ranking(area.decision, OfferSettings()))
            seeded = time.perf_counter() - started
            if size == sizes[0]:
                print(f"area: {area.describe().split(', ', 1)[0]}, {len(area.sites)} "
                      f"locations, {area.inhabitants:,} inhabitants; decision {area.decision}, "
                      f"places start {area.period_from} to {area.period_to}")
            timings: list[float] = []
            offers = 0
            for number, data in enumerate(freed_places(area, warm_up + events, seed_value)):
                event = new_event(data, source="/loket/capacity")
                uow = SqlMatchingUnitOfWork(sessions)
                started = time.perf_counter()
                async with uow:
                    if not await uow.already_applied(event):
                        await on_place_freed(event, data, uow, clock, new_id)
                        await uow.mark_applied(event)
                    proposed = any(e.type == MatchProposed.event_type()
                                   for e in uow.pending_events)
                    await uow.commit()
                elapsed = time.perf_counter() - started
                if number >= warm_up:
                    timings.append(elapsed * 1000)
                    offers += proposed
            median, p90 = median_p90(timings)
            medians[size] = median
            rows.append([f"{size:,}", counts["index rows"], len(timings),
                         f"{offers} ({offers / len(timings):.0%})", median, p90,
                         max(timings), seeded])
        print()
        table(["waiting requests", "index rows", "events", "with an offer", "median ms",
               "p90 ms", "max ms", "seeding s"], rows)
        small, large = min(sizes), max(sizes)
        ratio = medians[large] / medians[small]
        print(f"\nratio median({large:,}) / median({small:,}) = {ratio:.2f}   "
              f"target: at most {RATIO_TARGET:g} -> {verdict(ratio <= RATIO_TARGET)}")
        footer()


# --- round -----------------------------------------------------------------------------------


def _figures(report: dict[str, Any], name: str) -> dict[str, Any]:
    figures: dict[str, Any] = report[name]
    return figures


async def round_(seed_value: int, requests: int, locations: int, trace: bool) -> None:
    area = generate(seed_value, locations=locations, requests=requests)
    longest = max(len(r.preferred_location_ids) for r in area.requests)
    planning: dict[str, float] = {}

    def timed_plan(*args: Any, **kwargs: Any) -> RoundPlan:
        """plan_round as run_round calls it, timed (to split planning from I/O)."""
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return plan_round(*args, **kwargs)
        finally:
            planning["wall"] = time.perf_counter() - wall
            planning["cpu"] = time.process_time() - cpu

    async with bench_database() as (sessions, version):
        header("round", seed_value, f", PostgreSQL {version}")
        print(f"run_round (load from PostgreSQL, plan, store the round) over {area.describe()}; "
              f"up to {longest} choices per request")
        print(f"decision {area.decision}, period {area.period_from} to {area.period_to}, "
              f"lottery seed {seed_value}")
        await empty(sessions)
        started = time.perf_counter()
        counts = await seed(sessions, area, Ranking(area.decision, OfferSettings()))
        print(f"seeded {counts['requests']:,} requests, {counts['index rows']:,} index rows, "
              f"{counts['places']:,} places, {counts['enrolments']:,} enrolments in "
              f"{time.perf_counter() - started:.1f} s")
        command = RunRound(service_area=area.service_area, period_from=area.period_from,
                           period_to=area.period_to, decision_date=area.decision,
                           lottery_seed=seed_value)
        rss_before = max_rss_mib()
        with patch.object(rounds_module, "plan_round", timed_plan):
            wall, cpu = time.perf_counter(), time.process_time()
            found = await run_round(command, SqlMatchingUnitOfWork(sessions),
                                    fixed_clock(_morning(area.decision)), new_id)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rss_after = max_rss_mib()
    traced: list[object] = ["(skipped: --no-tracemalloc)", None]
    if trace:  # the planning step again, in memory on the same input, traced (slower)
        started = time.perf_counter()
        tracemalloc.start()
        plan_round(area.requests, area.places, area.locations,
                   Ranking(area.decision, OfferSettings(), lottery_seed=seed_value),
                   OfferSettings())
        traced = [tracemalloc.get_traced_memory()[1] / 2**20, time.perf_counter() - started]
        tracemalloc.stop()
    da = _figures(found.report, "deferred_acceptance")
    fcfs = _figures(found.report, "first_come_first_served")
    print()
    table(["measure", "value"], [
        ["run_round wall time (s)", wall],
        ["run_round CPU time of this process (s)", cpu],
        ["  planning (plan_round) wall / CPU (s)",
         f"{planning['wall']:.1f} / {planning['cpu']:.1f}"],
        ["  loading and storing, wall (s)", wall - planning["wall"]],
        ["peak RSS before run_round (MiB)", rss_before],
        ["peak RSS after run_round (MiB)", rss_after],
        ["tracemalloc peak of plan_round (MiB)", traced[0]],
        ["  (traced run took, s)", traced[1]],
        ["applicants / seats", f"{da['applicants']:,} / {da['seats']:,}"],
        ["DA placed (rate)", f"{da['placed']:,} ({da['placement_rate']:.1%})"],
        ["DA justified-envy pairs", da["envy_pairs"]],
        ["FCFS placed (rate)", f"{fcfs['placed']:,} ({fcfs['placement_rate']:.1%})"],
        ["FCFS justified-envy pairs", fcfs["envy_pairs"]],
    ])
    met = wall <= ROUND_SECONDS and rss_after <= ROUND_MIB
    print(f"\n{wall:.1f} s (ratio to target {wall / ROUND_SECONDS:.2f}), peak RSS "
          f"{rss_after:,.0f} MiB (ratio {rss_after / ROUND_MIB:.2f})   target: at most "
          f"{ROUND_SECONDS:g} s and 1 GiB -> {verdict(met)}")
    footer()


# --- fairness --------------------------------------------------------------------------------


def fairness(seed_value: int) -> None:
    header("fairness", seed_value)
    area = generate(seed_value, arrondissements=[AREA])
    print(f"{area.describe()}")
    print(f"requests = births for one year; decision {area.decision} (four months ahead), "
          f"places start {area.period_from} to {area.period_to}; lottery seed {seed_value}")
    wall, cpu = time.perf_counter(), time.process_time()
    plan = plan_round(area.requests, area.places, area.locations,
                      Ranking(area.decision, OfferSettings(), lottery_seed=seed_value),
                      OfferSettings())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    da = _figures(plan.report, "deferred_acceptance")
    fcfs = _figures(plan.report, "first_come_first_served")
    print(f"rule sets: {', '.join(plan.rule_sets)}; planned in {wall:.1f} s "
          f"({cpu:.1f} s CPU)\n")
    table(["", "deferred acceptance", "first come, first served"], [
        ["applicants", da["applicants"], fcfs["applicants"]],
        ["seats", da["seats"], fcfs["seats"]],
        ["placed", da["placed"], fcfs["placed"]],
        ["placement rate", f"{da['placement_rate']:.1%}", f"{fcfs['placement_rate']:.1%}"],
        ["mean preference rank", da["mean_rank"], fcfs["mean_rank"]],
        ["justified-envy pairs", da["envy_pairs"], fcfs["envy_pairs"]],
        ["quota locations met/total", f"{da['quota_met']}/{da['quota_locations']}",
         f"{fcfs['quota_met']}/{fcfs['quota_locations']}"],
    ])
    missed = [q for q in plan.report["quota"]
              if q["required_share"] > 0 and not q["met"] and q["demand_allows"]]
    print(f"\nreserved seats (quota shortfall): {len(plan.report['reserved_place_ids']):,}; "
          f"DA quota missed where demand allows: "
          + (", ".join(f"{q['location_id']} ({q['share_after']:.1%} of "
                       f"{q['required_share']:.0%})" for q in missed) or "none"))
    print(f"verdict (deferred acceptance): zero justified-envy pairs: "
          f"{'yes' if da['envy_pairs'] == 0 else 'no'}; every quota met where demand "
          f"allows: {'yes' if not missed else 'no'}")
    footer()


# --- the command line ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.matching",
                                     description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("benchmark", choices=["continuous", "round", "fairness", "all"])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
                        help="continuous: waiting-list sizes, comma-separated "
                             "(the ratio compares the largest with the smallest)")
    parser.add_argument("--events", type=int, default=EVENTS,
                        help="continuous: timed events per size")
    parser.add_argument("--warm-up", type=int, default=WARM_UP,
                        help="continuous: untimed events first, per size")
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false",
                        help="round: skip the traced planning run (tracemalloc peak)")
    args = parser.parse_args(argv)
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if args.benchmark == "continuous":
        asyncio.run(continuous(args.seed, sizes, args.events, args.warm_up))
    elif args.benchmark == "round":
        asyncio.run(round_(args.seed, ROUND_REQUESTS, ROUND_LOCATIONS, args.tracemalloc))
    elif args.benchmark == "fairness":
        fairness(args.seed)
    else:
        started = time.perf_counter()
        common = ["--seed", str(args.seed)]
        for name, extra in (("continuous", ["--sizes", args.sizes, "--events",
                                            str(args.events), "--warm-up", str(args.warm_up)]),
                            ("round", [] if args.tracemalloc else ["--no-tracemalloc"]),
                            ("fairness", [])):
            subprocess.run([sys.executable, "-m", "tools.bench.matching", name, *common,
                            *extra], check=True)
            print()
        print(f"all: {time.perf_counter() - started:.0f} s in total")


if __name__ == "__main__":
    main()
