"""Facts over SQL: each fact becomes one row, and a repeated fact changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.adapters.orm import table_of
from services.reporting.adapters.queries import counted_facts, waiting_times
from services.reporting.domain.facts import Fact
from services.reporting.domain.model import WaitingTimes
from services.reporting.domain.report import CountedFacts


class SqlFactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, fact: Fact) -> None:
        # The primary key is the fact's natural id: the first arrival wins, a
        # repeat (new event id, same fact) is silently dropped.
        statement = insert(table_of(type(fact))).values(fact.model_dump())
        await self._session.execute(statement.on_conflict_do_nothing())

    async def counted_facts(
        self, on: date, municipality_nis: str | None = None
    ) -> list[CountedFacts]:
        return await counted_facts(self._session, on, municipality_nis)

    async def waiting_times(self, municipality_nis: str | None = None) -> list[WaitingTimes]:
        return await waiting_times(self._session, municipality_nis)
