"""The SQL unit of work and the fake both satisfy reporting's port: mypy checks
`PORT_ADAPTERS` (CI runs it over tests/unit/reporting)."""

from __future__ import annotations

from collections.abc import Callable

from loketkit.db import make_engine, make_session_factory
from services.reporting.adapters.repository import SqlFactRepository
from services.reporting.adapters.uow import SqlReportingUnitOfWork
from services.reporting.ports import ReportingUnitOfWork
from services.reporting.settings import ReportingSettings
from tests.unit.reporting.fakes import FakeReportingUnitOfWork

PORT_ADAPTERS: tuple[Callable[..., ReportingUnitOfWork], ...] = (
    SqlReportingUnitOfWork, FakeReportingUnitOfWork)


async def test_the_sql_unit_of_work_opens_its_fact_repository() -> None:
    session_factory = make_session_factory(make_engine(ReportingSettings().database_url))
    uow = SqlReportingUnitOfWork(session_factory)
    uow.open_repositories(session_factory())  # no connection until a statement runs
    assert isinstance(uow.facts, SqlFactRepository)
