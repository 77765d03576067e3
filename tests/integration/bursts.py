"""What the burst tests share: a fresh migrated database per side, a count of the SQL
statements an app sends, and its tables read back, so a burst and the same events one
by one can be compared."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, text

from loketkit import migrations
from tests.conftest import DATABASE_SUFFIX
from tools.infra import Infra
from tools.infra.postgres import create_database


async def migrated_database(infra: Infra, name: str, migrations_dir: Path) -> str:
    """A new, empty database of this test session's (dropped first if a run left it)."""
    url = await create_database(infra.admin_database_url, f"{name}{DATABASE_SUFFIX}",
                                drop_existing=True)
    await migrations.upgrade(url, migrations_dir)
    return url


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app sends meanwhile (an executemany counts once)."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = app.state.infra.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def dump(app: FastAPI, tables: Mapping[str, str]) -> dict[str, list[Any]]:
    """Each named query's rows."""
    async with app.state.infra.session_factory() as session:
        return {name: [tuple(row) for row in (await session.execute(text(query))).all()]
                for name, query in tables.items()}


def outbox_kinds(rows: list[Any]) -> list[str]:
    """Outbox rows' events (a `headers::text` column) as type and subject, in order:
    their ids and times are new on each side."""
    kept = []
    for (headers,) in rows:
        pairs = dict(tuple(pair) for pair in json.loads(headers))
        kept.append(f"{pairs['ce_type']} {pairs.get('ce_subject', '')}")
    return kept
