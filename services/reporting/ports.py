"""What reporting's handlers need from storage. The SQL adapters and the in-memory
fakes (tests/unit/reporting/fakes.py) both satisfy these; mypy checks it."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from loketkit.uow import UnitOfWork
from services.reporting.domain.facts import Fact
from services.reporting.domain.model import WaitingTimes
from services.reporting.domain.report import CountedFacts


class FactRepository(Protocol):
    async def add(self, fact: Fact) -> None:
        """Keep the fact; a fact already kept (same natural id) changes nothing."""

    async def counted_facts(
        self, on: date, municipality_nis: str | None = None
    ) -> list[CountedFacts]:
        """Each figure's count per service area and municipality (one snapshot); the
        occupancy figures as on the given day."""

    async def waiting_times(self, municipality_nis: str | None = None) -> list[WaitingTimes]:
        """Median and 90th percentile of the days from registration to the first offer and
        to placement, per family municipality, per service area and in total."""


class ReportingUnitOfWork(UnitOfWork, Protocol):
    # Read-only, so an adapter may hold a more specific repository.
    @property
    def facts(self) -> FactRepository: ...
