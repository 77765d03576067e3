"""What the burst tests share: count the SQL statements an app sends, and read its
tables, so a burst and the same events one by one can be compared."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, text


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
