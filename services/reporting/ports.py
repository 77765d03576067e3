"""What reporting's handlers need from storage. The SQL adapters and the in-memory
fakes (tests/unit/reporting/fakes.py) both satisfy these; mypy checks it."""

from __future__ import annotations

from typing import Protocol

from loketkit.uow import UnitOfWork
from services.reporting.domain.facts import Fact
from services.reporting.domain.report import CountedFacts


class FactRepository(Protocol):
    async def add(self, fact: Fact) -> None:
        """Keep the fact; a fact already kept (same natural id) changes nothing."""

    async def counted_facts(self, municipality_nis: str | None = None) -> list[CountedFacts]:
        """Each figure's count per service area and municipality (one snapshot)."""


class ReportingUnitOfWork(UnitOfWork, Protocol):
    # Read-only, so an adapter may hold a more specific repository.
    @property
    def facts(self) -> FactRepository: ...
