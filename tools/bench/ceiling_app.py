"""The intake ceiling: the least an HTTP service can do to store a request.

FastAPI and asyncpg, no authentication, no validation, no outbox: `POST /rows` inserts
the JSON body as one row and answers 201 with its id. It runs like a service (its own
process, one uvicorn worker, the same uvicorn settings, a pool as large as a service's),
on the same PostgreSQL with its durability, so intake's rate against it says what our
own layers cost.

    CEILING_DATABASE_URL=postgresql://... CEILING_PORT=8299 python -m tools.bench.ceiling_app
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from fastapi import FastAPI

TABLE = """CREATE TABLE IF NOT EXISTS rows (
    id bigserial PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"""
POOL_MIN, POOL_MAX = 10, 15  # a service's SQLAlchemy pool: 10 plus 5 overflow


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["CEILING_DATABASE_URL"],
                                     min_size=POOL_MIN, max_size=POOL_MAX)
    await pool.execute(TABLE)
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/rows", status_code=201)
async def create_row(body: dict[str, Any]) -> dict[str, int]:
    pool: asyncpg.Pool = app.state.pool
    row_id = await pool.fetchval("INSERT INTO rows (body) VALUES ($1::jsonb) RETURNING id",
                                 json.dumps(body))
    return {"id": int(row_id)}


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("CEILING_PORT", "8299")),
                log_level="warning", access_log=False, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
