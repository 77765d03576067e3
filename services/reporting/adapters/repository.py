"""Facts over SQL: each fact becomes one row, and a repeated fact changes nothing.

Facts are written when the unit of work flushes or commits, one statement per
fact table for the whole batch of events, not one per fact."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from loketkit.db import insert_rows
from services.reporting.adapters.orm import table_of
from services.reporting.adapters.queries import counted_facts, waiting_times
from services.reporting.domain.facts import Fact
from services.reporting.domain.model import WaitingTimes
from services.reporting.domain.report import CountedFacts


class SqlFactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._pending: dict[Table, list[dict[str, Any]]] = defaultdict(list)

    async def add(self, fact: Fact) -> None:
        self._pending[table_of(type(fact))].append(fact.model_dump())

    async def write(self) -> None:
        """The facts added since the last write, one multi-row statement per table. The
        primary key is the fact's natural id: the first arrival wins, a repeat (new
        event id, same fact; also within the batch) is silently dropped."""
        pending, self._pending = self._pending, defaultdict(list)
        for table, rows in pending.items():
            await insert_rows(self._session, table, rows, skip_existing=True)

    async def counted_facts(
        self, on: date, municipality_nis: str | None = None
    ) -> list[CountedFacts]:
        await self.write()
        return await counted_facts(self._session, on, municipality_nis)

    async def waiting_times(self, municipality_nis: str | None = None) -> list[WaitingTimes]:
        await self.write()
        return await waiting_times(self._session, municipality_nis)
