"""Wake idle workers with LISTEN/NOTIFY the moment work is committed, on any host."""

import threading

import psycopg

from imgopt.adapters.postgres.engine import libpq_url
from imgopt.adapters.postgres.requests import WORK_CHANNEL
from imgopt.application.ports import WorkSignal


class PostgresWorkSignal(WorkSignal):
    def __init__(self, url: str) -> None:
        self._url = libpq_url(url)
        self._connection: psycopg.Connection | None = None

    def wait(self, timeout: float) -> bool:
        try:
            connection = self._listening()
            return any(True for _ in connection.notifies(timeout=max(timeout, 0.0), stop_after=1))
        except psycopg.OperationalError:
            # The database is away: wait out the timeout as a plain poll would, reconnect next time.
            self.close()
            threading.Event().wait(timeout)
            return False

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _listening(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._url, autocommit=True)
            self._connection.execute(f"LISTEN {WORK_CHANNEL}")
        return self._connection
