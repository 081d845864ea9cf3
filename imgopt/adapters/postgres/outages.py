"""PostgreSQL being away, told apart from other errors, and raised as the application's Unavailable."""

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors
from sqlalchemy import exc as sqlalchemy_errors

from imgopt.application.ports import Unavailable


def is_outage(error: BaseException) -> bool:
    """Whether `error` says the server cannot be reached or went away (down, restarting, refusing
    connections, the pool empty for too long), rather than that a statement was wrong."""
    if isinstance(error, sqlalchemy_errors.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(error, sqlalchemy_errors.DBAPIError):
        return error.connection_invalidated or is_outage(error.orig)
    # Deadlocks and serialization failures are OperationalErrors too, but the server is there.
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) and not isinstance(
        error, errors.TransactionRollback
    )


def describe(error: BaseException) -> str:
    """The driver's first line, without SQLAlchemy's links and statement: what an operator needs."""
    cause = error.orig if isinstance(error, sqlalchemy_errors.DBAPIError) and error.orig else error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def unavailable(error: BaseException) -> Unavailable:
    return Unavailable(f"the database is unavailable: {describe(error)}")


@contextmanager
def unavailable_on_outage() -> Iterator[None]:
    """Raise Unavailable in place of an outage error raised in the block; other errors pass unchanged."""
    try:
        yield
    except Exception as error:
        if is_outage(error):
            raise unavailable(error) from error
        raise
