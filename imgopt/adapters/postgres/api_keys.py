"""Finding API keys by hash for every call: in the database, and remembered per process until one is revoked."""

import threading
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import Engine, text

from imgopt.adapters.postgres.engine import libpq_url
from imgopt.adapters.postgres.tenants import KEY_COLUMNS, KEYS_CHANGED, key_from
from imgopt.application.ports import ApiKeyReader
from imgopt.domain.tenancy import ApiKey

_FIND = text(f"UPDATE images.apikeys SET last_used_at = now() WHERE key_hash = :hash RETURNING {KEY_COLUMNS}")


class PostgresApiKeyReader(ApiKeyReader):
    """One statement, outside any transaction; it notes when the key was used."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def find(self, key_hash: str) -> ApiKey | None:
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            row = connection.execute(_FIND, {"hash": key_hash}).first()
        return key_from(row) if row else None


class RememberingApiKeyReader(ApiKeyReader):
    """Live keys kept in memory for `ttl` seconds, so most calls cost no query (last use is noted once a `ttl`).

    A thread LISTENs on the channel revocations notify at commit, and forgets every key the moment
    one is revoked. While that connection is down nothing is remembered, so a revocation is never
    missed; a lookup that was under way when one arrived is not remembered either.
    """

    def __init__(
        self, reader: ApiKeyReader, engine: Engine, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._reader = reader
        self._url = libpq_url(engine.url.render_as_string(hide_password=False))
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, ApiKey]] = {}
        self._generation = 0
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def remembered(self, key_hash: str) -> ApiKey | None:
        self._start()
        entry = self._entries.get(key_hash)
        if entry is None or not self._listening.is_set() or entry[0] <= self._clock():
            return None
        return entry[1]

    def find(self, key_hash: str) -> ApiKey | None:
        self._start()
        generation = self._generation
        key = self._reader.find(key_hash)
        if key is not None and not key.revoked and self._listening.is_set():
            with self._lock:
                if generation == self._generation:
                    self._entries[key_hash] = (self._clock() + self._ttl, key)
        return key

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._listen, name="imgopt-key-revocations", daemon=True)
                    self._thread.start()

    def _forget(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as connection:
                    connection.execute(f"LISTEN {KEYS_CHANGED}")
                    self._forget()  # whatever was looked up before this connection listened is not trusted
                    self._listening.set()
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=1.0):
                            self._forget()
            except psycopg.Error:
                pass
            self._listening.clear()
            self._forget()
            self._stopping.wait(1.0)
