"""The unit of work: one connection, one transaction, every repository on it."""

from sqlalchemy import Connection, Engine

from imgopt.adapters.postgres.jobs import PostgresImageJobRepository
from imgopt.adapters.postgres.outages import is_outage, unavailable, unavailable_on_outage
from imgopt.adapters.postgres.products import PostgresProductRepository
from imgopt.adapters.postgres.requests import PostgresRequestRepository
from imgopt.adapters.postgres.sources import PostgresSourceRepository
from imgopt.adapters.postgres.tenants import PostgresApiKeyRepository, PostgresTenantRepository
from imgopt.adapters.postgres.webhooks import PostgresDeliveryRepository, PostgresWebhookRepository
from imgopt.application.ports import UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Connection errors anywhere in the block, the use case's own statements included, leave it as Unavailable."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def __enter__(self) -> "SqlAlchemyUnitOfWork":
        with unavailable_on_outage():
            connection = self._connection = self._engine.connect()
            connection.begin()
        self.tenants = PostgresTenantRepository(connection)
        self.keys = PostgresApiKeyRepository(connection)
        self.requests = PostgresRequestRepository(connection)
        self.products = PostgresProductRepository(connection)
        self.jobs = PostgresImageJobRepository(connection)
        self.sources = PostgresSourceRepository(connection)
        self.webhooks = PostgresWebhookRepository(connection)
        self.deliveries = PostgresDeliveryRepository(connection)
        return self

    def __exit__(self, exc_type: object, error: BaseException | None, traceback: object) -> None:
        with unavailable_on_outage():
            try:
                self.rollback()
            finally:
                self._connection.close()
                self._connection = None
        if error is not None and is_outage(error):
            raise unavailable(error) from error

    def commit(self) -> None:
        with unavailable_on_outage():
            self._connection.commit()

    def rollback(self) -> None:
        self._connection.rollback()
