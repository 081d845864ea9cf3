"""Read models: what the API and the metrics read straight from what is committed, nothing written."""

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from imgopt.application.ports.persistence import Scope
from imgopt.domain.status import ProductDetail, StatusSummary
from imgopt.domain.tenancy import ApiKey
from imgopt.domain.webhooks import AttemptResult, Delivery, Webhook

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Position:
    """Where a page of a newest-first list ends: the next page starts after this item."""

    created_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next: Position | None


class StatusReader(abc.ABC):
    """Read models straight from what is committed: no unit of work, nothing written.

    Every read is of one tenant's data: another tenant's ids read exactly as unknown ones.
    """

    @abc.abstractmethod
    def summary(self, request_id: UUID, tenant_id: Scope) -> StatusSummary | None: ...

    @abc.abstractmethod
    def products(
        self, request_id: UUID, tenant_id: Scope, after_line: int = 0, limit: int | None = None
    ) -> Iterator[ProductDetail]:
        """The request's products after `after_line`, in file order, with their images; streamed."""

    @abc.abstractmethod
    def deliveries(self, request_id: UUID, tenant_id: Scope) -> list[tuple[Delivery, list[AttemptResult]]]: ...

    @abc.abstractmethod
    def requests(self, tenant_id: UUID, status: str | None, after: Position | None, limit: int) -> Page[StatusSummary]:
        """The tenant's requests, newest first, `status` only when given."""

    @abc.abstractmethod
    def webhooks(self, tenant_id: UUID, after: Position | None, limit: int) -> Page[Webhook]:
        """The tenant's webhooks, newest first."""

    @abc.abstractmethod
    def webhook_deliveries(
        self, webhook_id: UUID, tenant_id: UUID, after: Position | None, limit: int
    ) -> Page[tuple[Delivery, list[AttemptResult]]] | None:
        """The webhook's deliveries with their attempts, newest first; None when the tenant has no such webhook."""


class ApiKeyReader(abc.ABC):
    """API keys by the hash of the key, for authenticating every call."""

    @abc.abstractmethod
    def find(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, revoked or not, as stored now (noting that it was used)."""

    def remembered(self, key_hash: str) -> ApiKey | None:
        """The live key with this hash if it is known without asking the database (never blocks), else None."""
        return None


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """How much work is waiting, as committed at `at`."""

    at: datetime
    images_pending: int
    images_processing: int
    oldest_pending_since: datetime | None
    deliveries_due: int
    deliveries_pending: int
    oldest_delivery_due_since: datetime | None


class QueueReader(abc.ABC):
    @abc.abstractmethod
    def snapshot(self) -> QueueSnapshot:
        """The queues of images and webhook deliveries, in a few cheap statements."""
