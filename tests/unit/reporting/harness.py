"""Reporting in memory: events go through loketkit's consumer (inbox included)
into the fake facts, and figures come out of the real report use case."""

from __future__ import annotations

from contracts import CloudEvent, EventData, new_event, to_kafka
from loketkit.consumer import EventConsumer, Origin
from services.reporting import handlers
from services.reporting.adapters.reference import load_municipalities
from services.reporting.domain.model import Figures
from services.reporting.domain.report import Report
from tests.unit.reporting.fakes import FakeReportingUnitOfWork

MUNICIPALITIES = load_municipalities()


class DeadLetters:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    async def send(self, value: bytes | None, key: bytes | None, headers: dict[str, str]) -> None:
        self.sent.append(headers)


class Reporting:
    def __init__(self) -> None:
        self.uow = FakeReportingUnitOfWork()
        self.dead_letters = DeadLetters()
        self.consumer = EventConsumer("reporting", handlers.EVENT_HANDLERS,
                                      lambda: self.uow, self.dead_letters)
        self._offset = 0

    async def apply(self, *payloads: EventData) -> list[str]:
        return [await self.deliver(new_event(data, source="/test")) for data in payloads]

    async def deliver(self, event: CloudEvent) -> str:
        key, value, headers = to_kafka(event)
        self._offset += 1
        return await self.consumer.consume(value, headers, Origin("t", 0, self._offset, key))

    async def report(self, municipality_nis: str | None = None) -> Report:
        return await handlers.report_figures(self.uow, MUNICIPALITIES, municipality_nis)

    async def figures(self, nis: str) -> Figures:
        """One municipality's figures in the full report (zero when it has none)."""
        rows = {row.municipality.nis: row.figures for row in (await self.report()).municipalities}
        return rows.get(nis, Figures())
