"""Reporting's use cases: record each fact once, and report the figures.

Every event reporting counts becomes one fact, stored under its natural id; the
figures are counted from those facts when asked, never kept as counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts import CloudEvent, EventData
from loketkit.bus import AnyHandler
from loketkit.ids import Clock, utcnow
from services.reporting.domain.facts import FACTS, facts_of
from services.reporting.domain.model import Municipality, WaitingTimes
from services.reporting.domain.report import (
    CountedFacts,
    Report,
    UnknownMunicipality,
    build_report,
)
from services.reporting.ports import ReportingUnitOfWork


def brussels_date(moment: datetime) -> date:
    try:
        return moment.astimezone(ZoneInfo("Europe/Brussels")).date()
    except ZoneInfoNotFoundError:  # an image without tz data: the UTC date
        return moment.date()


async def record_fact(event: CloudEvent, data: EventData, uow: ReportingUnitOfWork) -> None:
    for fact in facts_of(data):
        await uow.facts.add(fact)


async def report_figures(
    uow: ReportingUnitOfWork,
    reference: Mapping[str, Municipality],
    municipality_nis: str | None = None,
    clock: Clock = utcnow,
    on: date | None = None,
    service_area: str | None = None,
) -> Report:
    """All figures, or one municipality's; a code known to neither list nor facts is refused.
    Occupancy is counted as on `on` (today in Brussels unless asked). With `service_area`,
    only that area's facts count (a loket's own people see their own area)."""
    day = on or brussels_date(clock())
    async with uow:
        rows = await uow.facts.counted_facts(day, municipality_nis)
        waiting_times = await uow.facts.waiting_times(municipality_nis)
    if service_area is not None:
        rows, waiting_times = only_area(rows, waiting_times, service_area)
    if municipality_nis is not None and municipality_nis not in reference and not rows:
        raise UnknownMunicipality(municipality_nis)
    return build_report(
        rows,
        reference,
        generated_at=clock(),
        always_show=[municipality_nis] if municipality_nis else [],
        waiting_times=waiting_times,
    )


def only_area(
    rows: list[CountedFacts], waiting_times: list[WaitingTimes], service_area: str
) -> tuple[list[CountedFacts], list[WaitingTimes]]:
    kept = [row for row in rows if row.service_area == service_area]
    municipalities = {row.municipality_nis for row in kept}
    times = [t for t in waiting_times
             if (t.scope == "service_area" and t.key == service_area)
             or (t.scope == "municipality" and t.key in municipalities)]
    return kept, times


# Reporting takes no commands: it only listens, and answers questions (report_figures).
COMMAND_HANDLERS: dict[type, AnyHandler] = {}
# Every event in the fact table is recorded the same way.
EVENT_HANDLERS: dict[type, AnyHandler] = dict.fromkeys(FACTS, record_fact)
