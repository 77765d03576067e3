"""Reporting as the tests drive it: the real app from bootstrap, events in through its
consumer (inbox included), figures out of the real report use case.

`InMemoryReporting` runs over the fakes; tests/integration/test_reporting_figures.py
builds the same harness over PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fastapi import FastAPI

from contracts import CloudEvent, EventData, new_event
from loketkit.ids import Clock, utcnow
from loketkit.testing import RecordingDeadLetters, deliver, deliver_batch, deliver_event
from services.reporting import handlers
from services.reporting.adapters.reference import load_municipalities
from services.reporting.bootstrap import bootstrap
from services.reporting.domain.model import Figures, Municipality
from services.reporting.domain.report import Report
from services.reporting.entrypoints.deps import ReferenceData, ReportingContext
from services.reporting.settings import ReportingSettings
from tests.unit.reporting.fakes import FakeReportingUnitOfWork

MUNICIPALITIES = load_municipalities()


class Reporting:
    def __init__(self, app: FastAPI, dead_letters: RecordingDeadLetters) -> None:
        self.app = app
        self.dead_letters = dead_letters

    @property
    def context(self) -> ReportingContext:
        context: ReportingContext = self.app.state.context
        return context

    async def apply(self, *payloads: EventData) -> list[str]:
        return [await deliver(self.app.state.consumer, data) for data in payloads]

    async def apply_batch(self, *payloads: EventData) -> list[str]:
        """The payloads as one batch off the broker: one unit of work."""
        events = [new_event(data, source="/test") for data in payloads]
        return await deliver_batch(self.app.state.consumer, events)

    async def deliver(self, event: CloudEvent) -> str:
        return await deliver_event(self.app.state.consumer, event)

    async def report(self, municipality_nis: str | None = None, on: date | None = None
                     ) -> Report:
        reference: ReferenceData = self.app.state.reference
        return await handlers.report_figures(self.context.uow(), reference.municipalities,
                                             municipality_nis, on=on)

    async def figures(self, nis: str, on: date | None = None) -> Figures:
        """One municipality's figures in the full report (zero when it has none)."""
        report = await self.report(on=on)
        rows = {row.municipality.nis: row.figures for row in report.municipalities}
        return rows.get(nis, Figures())


class InMemoryReporting(Reporting):
    def __init__(self, municipalities: Mapping[str, Municipality] = MUNICIPALITIES,
                 clock: Clock = utcnow) -> None:
        self.uow = FakeReportingUnitOfWork()
        dead_letters = RecordingDeadLetters()
        app = bootstrap(ReportingSettings(run_migrations=False), uow_factory=lambda: self.uow,
                        dead_letters=dead_letters, clock=clock, municipalities=municipalities)
        super().__init__(app, dead_letters)
