"""Reporting's figure rules against the SQL that ships (adapters/queries.py): the
same tests (tests/unit/reporting/figure_rules.py) that run against the in-memory
fake in tests/unit/reporting/test_figures.py, so the fake cannot drift from SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from loketkit import migrations
from loketkit.testing import RecordingDeadLetters
from services.reporting.adapters.orm import ReportingTable
from services.reporting.bootstrap import MIGRATIONS, bootstrap
from services.reporting.settings import ReportingSettings
from tests.unit.reporting.figure_rules import FigureRules, LifecycleRules
from tests.unit.reporting.harness import Reporting
from tools.infra import Infra

# Every table a test writes to: the facts and the inbox.
TABLES = ", ".join([*ReportingTable.metadata.tables, "processed_events"])


@pytest.fixture(scope="module")
async def postgres_reporting(infra: Infra) -> AsyncIterator[Reporting]:
    """The real app over reporting's migrated PostgreSQL database (Kafka is not started)."""
    url = infra.database_urls["reporting"]
    await migrations.upgrade(url, MIGRATIONS)
    dead_letters = RecordingDeadLetters()
    app = bootstrap(ReportingSettings(database_url=url, run_migrations=False),
                    dead_letters=dead_letters)
    yield Reporting(app, dead_letters)
    await app.state.infra.engine.dispose()


@pytest.mark.integration
class TestFiguresInPostgres(FigureRules):
    @pytest.fixture
    async def reporting(self, postgres_reporting: Reporting) -> Reporting:
        async with postgres_reporting.app.state.infra.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {TABLES}"))  # a clean database per test
        return postgres_reporting


@pytest.mark.integration
class TestLifecycleInPostgres(LifecycleRules):
    @pytest.fixture
    async def reporting(self, postgres_reporting: Reporting) -> Reporting:
        async with postgres_reporting.app.state.infra.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {TABLES}"))
        return postgres_reporting
