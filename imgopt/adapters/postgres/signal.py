"""Wake idle workers with LISTEN/NOTIFY the moment work is committed, on any host."""

import threading

import psycopg
from sqlalchemy import Engine, text

from imgopt.adapters.postgres.engine import libpq_url
from imgopt.application.ports import WorkSignal

IMAGE_WORK = "imgopt_images"
WEBHOOK_WORK = "imgopt_webhooks"


class PostgresWorkSignal(WorkSignal):
    """Notifies on a pooled connection; waits on a LISTEN connection of its own, opened on first wait."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self._engine = engine
        self._channel = channel
        self._listener: psycopg.Connection | None = None

    def notify(self) -> None:
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": self._channel})

    def wait(self, timeout: float) -> bool:
        try:
            listener = self._listening()
            return any(True for _ in listener.notifies(timeout=max(timeout, 0.0), stop_after=1))
        except psycopg.OperationalError:
            # The database is away: wait out the timeout as a plain poll would, reconnect next time.
            self.close()
            threading.Event().wait(timeout)
            return False

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _listening(self) -> psycopg.Connection:
        if self._listener is None or self._listener.closed:
            url = libpq_url(self._engine.url.render_as_string(hide_password=False))
            self._listener = psycopg.connect(url, autocommit=True)
            self._listener.execute(f"LISTEN {self._channel}")
        return self._listener
