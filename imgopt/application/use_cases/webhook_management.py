"""What a tenant may do to its own webhooks: list them, delete one, rotate its secret, read and replay deliveries."""

from dataclasses import dataclass
from uuid import UUID

from imgopt.application.ports import (
    Clock,
    IdGenerator,
    Page,
    Position,
    StatusReader,
    UnitOfWork,
    UnitOfWorkFactory,
    WorkSignal,
)
from imgopt.application.use_cases.status import MAX_PAGE_SIZE
from imgopt.domain.webhooks import AttemptResult, Delivery, DeliveryNotFound, Webhook, WebhookNotFound


def _owned(uow: UnitOfWork, webhook_id: UUID, tenant_id: UUID) -> Webhook:
    webhook = uow.webhooks.get(webhook_id, tenant_id)
    if webhook is None:
        raise WebhookNotFound(f"no webhook with id {webhook_id}")
    return webhook


@dataclass(frozen=True, slots=True)
class ListWebhooks:
    reader: StatusReader

    def __call__(self, tenant_id: UUID, after: Position | None = None, limit: int = 20) -> Page[Webhook]:
        return self.reader.webhooks(tenant_id, after, max(1, min(limit, MAX_PAGE_SIZE)))


@dataclass(frozen=True, slots=True)
class DeleteWebhook:
    """Remove a webhook and its deliveries; nothing more is sent to it."""

    uow: UnitOfWorkFactory

    def __call__(self, tenant_id: UUID, webhook_id: UUID) -> None:
        with self.uow() as uow:
            uow.webhooks.delete(_owned(uow, webhook_id, tenant_id))
            uow.commit()


@dataclass(frozen=True, slots=True)
class RotateWebhookSecret:
    """A new signing secret, shown once; for a day every message is signed with the old one as well."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator

    def __call__(self, tenant_id: UUID, webhook_id: UUID) -> Webhook:
        with self.uow() as uow:
            webhook = _owned(uow, webhook_id, tenant_id).rotated(self.ids.secret(), self.clock.now())
            uow.webhooks.save(webhook)
            uow.commit()
        return webhook


@dataclass(frozen=True, slots=True)
class ListDeliveries:
    """A webhook's deliveries, newest first, each with its log of attempts."""

    reader: StatusReader

    def __call__(
        self, tenant_id: UUID, webhook_id: UUID, after: Position | None = None, limit: int = 20
    ) -> Page[tuple[Delivery, list[AttemptResult]]]:
        page = self.reader.webhook_deliveries(webhook_id, tenant_id, after, max(1, min(limit, MAX_PAGE_SIZE)))
        if page is None:
            raise WebhookNotFound(f"no webhook with id {webhook_id}")
        return page


@dataclass(frozen=True, slots=True)
class Redeliver:
    """Send a delivery again, as it was and under the same `webhook-id`, so receivers can tell it is a replay."""

    uow: UnitOfWorkFactory
    clock: Clock
    webhook_work: WorkSignal

    def __call__(self, tenant_id: UUID, delivery_id: str) -> Delivery:
        with self.uow() as uow:
            delivery = uow.deliveries.get(delivery_id, tenant_id)
            if delivery is None:
                raise DeliveryNotFound(f"no delivery with id {delivery_id}")
            delivery = delivery.redelivered(self.clock.now())
            uow.deliveries.save(delivery)
            uow.commit()
        self.webhook_work.notify()
        return delivery
