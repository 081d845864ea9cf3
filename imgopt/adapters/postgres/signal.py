"""Wake idle workers with LISTEN/NOTIFY the moment work is committed, on any host."""

import logging
import threading

import psycopg
from sqlalchemy import Engine, text

from imgopt.adapters.postgres.engine import CONNECT_TIMEOUT_SECONDS, libpq_url
from imgopt.adapters.postgres.outages import describe, is_outage
from imgopt.application.ports import WorkSignal

log = logging.getLogger(__name__)

IMAGE_WORK = "imgopt_images"
WEBHOOK_WORK = "imgopt_webhooks"


class PostgresWorkSignal(WorkSignal):
    """Notifies on a pooled connection; waits on a LISTEN connection of its own, opened on first wait."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self._engine = engine
        self._channel = channel
        self._listener: psycopg.Connection | None = None

    def notify(self) -> None:
        """Best effort: the work is committed already, and workers poll for it anyway."""
        try:
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": self._channel})
        except Exception as error:
            if not is_outage(error):
                raise
            log.debug("could not wake workers on %s: %s", self._channel, describe(error))

    def wait(self, timeout: float) -> bool:
        try:
            listener = self._listening()
            return any(True for _ in listener.notifies(timeout=max(timeout, 0.0), stop_after=1))
        except Exception as error:
            if not is_outage(error):
                raise
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
            self._listener = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
            self._listener.execute(f"LISTEN {self._channel}")
        return self._listener
