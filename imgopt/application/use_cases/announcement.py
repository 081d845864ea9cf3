"""Put a finished request's webhook deliveries in the outbox, in the caller's transaction."""

from dataclasses import dataclass

from imgopt.application.links import Links
from imgopt.application.ports import Clock, EventDocuments, IdGenerator, UnitOfWork
from imgopt.domain.request import UploadRequest
from imgopt.domain.status import StatusSummary
from imgopt.domain.webhooks import COMPLETED_EVENT, Delivery, Webhook


@dataclass(frozen=True, slots=True)
class Announcer:
    clock: Clock
    ids: IdGenerator
    links: Links
    documents: EventDocuments

    def announce(self, uow: UnitOfWork, request: UploadRequest, webhooks: list[Webhook] | None = None) -> int:
        """Queue one delivery per webhook (by default every webhook of the request); return how many."""
        targets = uow.webhooks.for_request(request.id) if webhooks is None else webhooks
        if not targets:
            return 0
        now = self.clock.now()
        payload = self.documents.request_finished(StatusSummary.of(request), self.links.output_csv(request.id), now)
        for webhook in targets:
            uow.deliveries.add(
                Delivery(
                    id=self.ids.message_id(),
                    webhook_id=webhook.id,
                    request_id=request.id,
                    event_type=COMPLETED_EVENT,
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
        return len(targets)
