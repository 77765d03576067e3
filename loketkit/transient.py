"""Which failures are the infrastructure's, not the message's, and how long to wait.

A transient failure (the database restarting, out of connections, unreachable;
the broker timing out) says nothing about the event: it must be delivered again
later, never dead-lettered. PostgreSQL names its errors by SQLSTATE, and asyncpg's
arrive wrapped in SQLAlchemy's plain `DBAPIError`, so classify by SQLSTATE and by
error kind, anywhere in the chain of causes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from aiokafka.errors import KafkaError, KafkaTimeoutError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many
# connections, disk full), 57 operator intervention (starting up, shutting down,
# statement cancelled), 58 system error (I/O).
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
# Retrying the same transaction succeeds once the competing one is gone.
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock

_CHAIN_LIMIT = 10


def causes(error: BaseException) -> list[BaseException]:
    """The error, then what it wraps (SQLAlchemy's `orig`) and what caused it."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < _CHAIN_LIMIT and seen not in chain:
        chain.append(seen)
        wrapped = getattr(seen, "orig", None)
        seen = wrapped if isinstance(wrapped, BaseException) else seen.__cause__
    return chain


def sqlstate_of(error: BaseException) -> str | None:
    """SQLSTATE of a database error, through SQLAlchemy's and asyncpg's wrappers."""
    for link in causes(error):
        for attribute in ("sqlstate", "pgcode"):
            code = getattr(link, attribute, None)
            if isinstance(code, str) and len(code) == 5:
                return code
    return None


def _transient_link(link: BaseException) -> bool:
    if isinstance(link, DBAPIError) and link.connection_invalidated:
        return True
    if isinstance(link, OperationalError | InterfaceError | PoolTimeout):
        return True
    if isinstance(link, KafkaTimeoutError):
        return True
    if isinstance(link, KafkaError):
        return bool(getattr(link, "retriable", False))  # connection, timeouts, leader moves
    return isinstance(link, OSError | ConnectionError | TimeoutError)


def is_transient(error: BaseException) -> bool:
    """True when the failure is the infrastructure's: deliver the message again later."""
    sqlstate = sqlstate_of(error)
    if sqlstate is not None and (
        sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES or sqlstate in TRANSIENT_SQLSTATES
    ):
        return True
    return any(_transient_link(link) for link in causes(error))


def describe(error: BaseException) -> str:
    """The error's type, and its SQLSTATE when the database raised it: never its message,
    which can quote the values (names, national numbers) a statement was given."""
    sqlstate = sqlstate_of(error)
    return type(error).__name__ + (f" (SQLSTATE {sqlstate})" if sqlstate else "")


@dataclass
class Backoff:
    """A delay per key (a partition) that doubles on each failure up to a cap and
    starts over after a success."""

    first_seconds: float = 0.5
    max_seconds: float = 30.0
    _failures: dict[Hashable, int] = field(default_factory=dict)

    def failed(self, key: Hashable) -> float:
        """Record a failure; returns how long to wait before the next attempt."""
        count = self._failures.get(key, 0)
        self._failures[key] = count + 1
        return float(min(self.first_seconds * 2.0 ** min(count, 32), self.max_seconds))

    def succeeded(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def failures(self, key: Hashable) -> int:
        return self._failures.get(key, 0)
