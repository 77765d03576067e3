"""Which failures are the infrastructure's (deliver again later) and which the message's."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RequestTimedOutError,
)
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from loketkit.transient import Backoff, describe, is_transient, sqlstate_of

DBAPI = AsyncAdapt_asyncpg_dbapi(asyncpg)  # type: ignore[no-untyped-call]


def database_error(kind: type[Exception], message: str = "refused") -> DBAPIError:
    """What SQLAlchemy's asyncpg dialect raises for an asyncpg error of this kind."""
    raw = kind(message)
    error = DBAPIError.instance("SELECT 1", None, DBAPI.Error(message, raw),  # type: ignore[no-untyped-call]
                               DBAPI.Error)
    assert isinstance(error, DBAPIError)
    return error


@pytest.mark.parametrize("kind", [
    asyncpg.exceptions.CannotConnectNowError,  # 57P03 starting up
    asyncpg.exceptions.AdminShutdownError,  # 57P01
    asyncpg.exceptions.TooManyConnectionsError,  # 53300
    asyncpg.exceptions.ConnectionFailureError,  # 08006
    asyncpg.exceptions.ConnectionDoesNotExistError,  # 08003
    asyncpg.exceptions.SerializationError,  # 40001
    asyncpg.exceptions.DeadlockDetectedError,  # 40P01
    asyncpg.exceptions.DiskFullError,  # 53100
])
def test_database_outages_are_transient_by_sqlstate(kind: type[Exception]) -> None:
    assert is_transient(database_error(kind))


@pytest.mark.parametrize("kind", [
    asyncpg.exceptions.UniqueViolationError,  # 23505: the data's fault
    asyncpg.exceptions.NotNullViolationError,
    asyncpg.exceptions.UndefinedColumnError,  # 42703: a code defect
    asyncpg.exceptions.CharacterNotInRepertoireError,
])
def test_errors_of_the_data_or_the_code_are_not_transient(kind: type[Exception]) -> None:
    assert not is_transient(database_error(kind))


@pytest.mark.parametrize("error", [
    PoolTimeout("QueuePool limit reached"),
    ConnectionRefusedError(111, "refused"),
    TimeoutError(),
    KafkaConnectionError(),
    KafkaTimeoutError(),
    RequestTimedOutError(),
])
def test_pool_socket_and_broker_timeouts_are_transient(error: Exception) -> None:
    assert is_transient(error)


def test_a_transient_cause_anywhere_in_the_chain_counts() -> None:
    try:
        try:
            raise database_error(asyncpg.exceptions.CannotConnectNowError)
        except DBAPIError as cause:
            raise RuntimeError("repository failed") from cause
    except RuntimeError as wrapped:
        assert is_transient(wrapped)


def test_ordinary_errors_are_not_transient() -> None:
    assert not is_transient(ValueError("bad"))
    assert not is_transient(KeyError("x"))
    assert not is_transient(MessageSizeTooLargeError())


def test_an_invalidated_connection_is_transient() -> None:
    error = DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True)
    assert is_transient(error)


def test_description_names_the_kind_and_sqlstate_never_the_message() -> None:
    error = database_error(asyncpg.exceptions.UniqueViolationError, "Key (name)=(Jan Peeters)")
    assert sqlstate_of(error) == "23505"
    assert describe(error) == "DBAPIError (SQLSTATE 23505)"
    assert "Peeters" not in describe(error)


def test_backoff_doubles_per_partition_up_to_a_cap_and_resets_on_success() -> None:
    backoff = Backoff(first_seconds=0.5, max_seconds=4.0)
    assert [backoff.failed("p0") for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.failed("p1") == 0.5, "each partition has its own delay"
    backoff.succeeded("p0")
    assert backoff.failed("p0") == 0.5
