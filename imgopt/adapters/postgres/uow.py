"""The unit of work: one connection, one transaction, every repository on it."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from imgopt.adapters.postgres.jobs import PostgresImageJobRepository
from imgopt.adapters.postgres.products import PostgresProductRepository
from imgopt.adapters.postgres.requests import PostgresRequestRepository
from imgopt.adapters.postgres.webhooks import PostgresDeliveryRepository, PostgresWebhookRepository
from imgopt.application.ports import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def __enter__(self) -> "SqlAlchemyUnitOfWork":
        self._open(self._engine.connect())
        self._connection.begin()
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._close()

    @contextmanager
    def read(self) -> Iterator["SqlAlchemyUnitOfWork"]:
        # Autocommit spares the BEGIN and ROLLBACK round trips around reads; a status poll is one statement.
        self._open(self._engine.connect().execution_options(isolation_level="AUTOCOMMIT"))
        try:
            yield self
        finally:
            self._close()

    def commit(self) -> None:
        self._connection.commit()

    def rollback(self) -> None:
        self._connection.rollback()

    def _open(self, connection: Connection) -> None:
        self._connection = connection
        self.requests = PostgresRequestRepository(connection)
        self.products = PostgresProductRepository(connection)
        self.jobs = PostgresImageJobRepository(connection)
        self.webhooks = PostgresWebhookRepository(connection)
        self.deliveries = PostgresDeliveryRepository(connection)

    def _close(self) -> None:
        self._connection.close()
        self._connection = None
