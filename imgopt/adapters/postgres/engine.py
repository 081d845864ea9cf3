"""Engines and migrations for PostgreSQL."""

import time
from importlib.resources import files

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import errors
from psycopg.types.array import ListBinaryDumper
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError

from imgopt.adapters.postgres.outages import describe, is_outage


def sqlalchemy_url(url: str) -> str:
    """Accept the usual postgresql:// spellings and pick the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]!r}")


def libpq_url(url: str) -> str:
    """The same URL as libpq and psycopg spell it."""
    return sqlalchemy_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


# A pooled connection idle this long is checked before use; busier ones are not, which spares a
# round trip on every checkout (a status poll is otherwise one).
STALE_AFTER_SECONDS = 10.0


# While the database is away a caller learns it within seconds, never hangs: connecting gives up
# after this long, and waiting for a pooled connection after POOL_TIMEOUT_SECONDS.
CONNECT_TIMEOUT_SECONDS = 3
POOL_TIMEOUT_SECONDS = 5


def make_engine(url: str, pool_size: int = 10) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={
            "options": "-c timezone=UTC",
            "application_name": "imgopt",
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        },
    )
    event.listen(engine, "connect", _lists_in_binary)
    event.listen(engine, "checkout", _ping_if_stale)
    event.listen(engine, "checkin", _note_last_use)
    return engine


def _lists_in_binary(dbapi_connection, record) -> None:
    # The queue's statements take their rows as arrays (unnest): psycopg's text dumper quotes every element
    # in Python, its binary one packs them in C (a statement of seven 64-element arrays: about 750 against
    # 250 µs of the worker's CPU). Empty lists and lists of only NULLs still go as text.
    dbapi_connection.adapters.register_dumper(list, ListBinaryDumper)


def _note_last_use(dbapi_connection, record) -> None:
    record.info["last_use"] = time.monotonic()


def _ping_if_stale(dbapi_connection, record, proxy) -> None:
    if time.monotonic() - record.info.get("last_use", 0.0) < STALE_AFTER_SECONDS:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except psycopg.Error:
        # The pool replaces this connection and tries again with another.
        raise DisconnectionError() from None


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run from several processes at once."""
    config = Config()
    config.set_main_option("script_location", str(files("imgopt.adapters.postgres") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def readiness_problem(engine: Engine) -> str | None:
    """Why the service cannot work on this database now (unreachable, not migrated), or None."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1 FROM images.requests LIMIT 1"))
    except Exception as error:  # whatever it is, the service is not ready; the reason is reported
        if isinstance(getattr(error, "orig", None), errors.UndefinedTable | errors.InvalidSchemaName):
            return "the database is not migrated: run imgopt migrate"
        if is_outage(error):
            return f"the database cannot be reached: {describe(error)}"
        return f"the database check failed: {describe(error)}"
    return None
