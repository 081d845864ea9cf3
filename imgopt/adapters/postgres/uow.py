"""The unit of work: one connection, one transaction, every repository on it."""

from sqlalchemy import Connection, Engine

from imgopt.adapters.postgres.jobs import PostgresImageJobRepository
from imgopt.adapters.postgres.products import PostgresProductRepository
from imgopt.adapters.postgres.requests import PostgresRequestRepository
from imgopt.adapters.postgres.tenants import PostgresApiKeyRepository, PostgresTenantRepository
from imgopt.adapters.postgres.webhooks import PostgresDeliveryRepository, PostgresWebhookRepository
from imgopt.application.ports import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def __enter__(self) -> "SqlAlchemyUnitOfWork":
        connection = self._connection = self._engine.connect()
        connection.begin()
        self.tenants = PostgresTenantRepository(connection)
        self.keys = PostgresApiKeyRepository(connection)
        self.requests = PostgresRequestRepository(connection)
        self.products = PostgresProductRepository(connection)
        self.jobs = PostgresImageJobRepository(connection)
        self.webhooks = PostgresWebhookRepository(connection)
        self.deliveries = PostgresDeliveryRepository(connection)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            super().__exit__(*exc_info)
        finally:
            self._connection.close()
            self._connection = None

    def commit(self) -> None:
        self._connection.commit()

    def rollback(self) -> None:
        self._connection.rollback()
