"""What a tenant may do to its own webhooks: list them, delete one, rotate its secret, read and replay deliveries."""

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


class ListWebhooks:
    def __init__(self, reader: StatusReader) -> None:
        self._reader = reader

    def __call__(self, tenant_id: UUID, after: Position | None = None, limit: int = 20) -> Page[Webhook]:
        return self._reader.webhooks(tenant_id, after, max(1, min(limit, MAX_PAGE_SIZE)))


class DeleteWebhook:
    """Remove a webhook and its deliveries; nothing more is sent to it."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def __call__(self, tenant_id: UUID, webhook_id: UUID) -> None:
        with self._uow() as uow:
            uow.webhooks.delete(_owned(uow, webhook_id, tenant_id))
            uow.commit()


class RotateWebhookSecret:
    """A new signing secret, shown once; for a day every message is signed with the old one as well."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, ids: IdGenerator) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids

    def __call__(self, tenant_id: UUID, webhook_id: UUID) -> Webhook:
        with self._uow() as uow:
            webhook = _owned(uow, webhook_id, tenant_id).rotated(self._ids.secret(), self._clock.now())
            uow.webhooks.save(webhook)
            uow.commit()
        return webhook


class ListDeliveries:
    """A webhook's deliveries, newest first, each with its log of attempts."""

    def __init__(self, reader: StatusReader) -> None:
        self._reader = reader

    def __call__(
        self, tenant_id: UUID, webhook_id: UUID, after: Position | None = None, limit: int = 20
    ) -> Page[tuple[Delivery, list[AttemptResult]]]:
        page = self._reader.webhook_deliveries(webhook_id, tenant_id, after, max(1, min(limit, MAX_PAGE_SIZE)))
        if page is None:
            raise WebhookNotFound(f"no webhook with id {webhook_id}")
        return page


class Redeliver:
    """Send a delivery again, as it was and under the same `webhook-id`, so receivers can tell it is a replay."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, webhook_work: WorkSignal) -> None:
        self._uow = uow
        self._clock = clock
        self._webhook_work = webhook_work

    def __call__(self, tenant_id: UUID, delivery_id: str) -> Delivery:
        with self._uow() as uow:
            delivery = uow.deliveries.get(delivery_id, tenant_id)
            if delivery is None:
                raise DeliveryNotFound(f"no delivery with id {delivery_id}")
            delivery = delivery.redelivered(self._clock.now())
            uow.deliveries.save(delivery)
            uow.commit()
        self._webhook_work.notify()
        return delivery
