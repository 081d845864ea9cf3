"""Engines and migrations for PostgreSQL."""

import time
from importlib.resources import files

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError


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


def make_engine(url: str, pool_size: int = 10) -> Engine:
    engine = create_engine(
        sqlalchemy_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"options": "-c timezone=UTC", "application_name": "imgopt"},
    )
    event.listen(engine, "checkout", _ping_if_stale)
    event.listen(engine, "checkin", _note_last_use)
    return engine


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
