"""Ids and timestamps, injected into handlers so tests can fix them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
IdFactory = Callable[[str], str]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A fresh id such as `req-6f1c…`: the prefix says what it names."""
    return f"{prefix}-{uuid.uuid4()}"
