"""What a tenant may do to its own requests: cancel one, retry its failed images, delete it with its outputs."""

from dataclasses import dataclass
from uuid import UUID

from imgopt.application.errors import RequestNotFinished, RequestNotFound
from imgopt.application.ports import Clock, ImageStorage, UnitOfWork, UnitOfWorkFactory, WorkSignal
from imgopt.application.use_cases.announcement import Announcer
from imgopt.domain.request import UploadRequest


def _owned(uow: UnitOfWork, request_id: UUID, tenant_id: UUID) -> UploadRequest:
    request = uow.requests.get_for_update(request_id, tenant_id)
    if request is None:
        raise RequestNotFound(f"no request with id {request_id}")
    return request


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """Cancel the images that wait; those in flight may still finish. The request ends as `cancelled`
    at once, and its webhooks are told so."""

    uow: UnitOfWorkFactory
    clock: Clock
    announcer: Announcer
    webhook_work: WorkSignal

    def __call__(self, tenant_id: UUID, request_id: UUID) -> UploadRequest:
        now = self.clock.now()
        with self.uow() as uow:
            request = _owned(uow, request_id, tenant_id)
            uow.jobs.cancel_pending(request, now)
            request.cancel(uow.jobs.in_flight(request), now)
            uow.requests.save(request)
            announced = self.announcer.announce(uow, request)
            uow.commit()
        if announced:
            self.webhook_work.notify()
        return request


@dataclass(frozen=True, slots=True)
class RetryRequest:
    """Queue a finished request's failed images again; it reopens, and is announced again when done."""

    uow: UnitOfWorkFactory
    clock: Clock
    image_work: WorkSignal

    def __call__(self, tenant_id: UUID, request_id: UUID) -> UploadRequest:
        with self.uow() as uow:
            request = _owned(uow, request_id, tenant_id)
            if not request.status.is_terminal:
                raise RequestNotFinished(f"request {request_id} is still {request.status}; retry it once it finishes")
            lines = uow.jobs.retry_failed(request, self.clock.now())
            request.reopen(len(lines), len(set(lines)))
            uow.requests.save(request)
            uow.commit()
        self.image_work.notify()
        return request


@dataclass(frozen=True, slots=True)
class DeleteRequest:
    """Delete a finished request: its output files first, then its rows (so a failure leaves it to delete again)."""

    uow: UnitOfWorkFactory
    storage: ImageStorage

    def __call__(self, tenant_id: UUID, request_id: UUID) -> None:
        with self.uow() as uow:
            request = _owned(uow, request_id, tenant_id)
            in_flight = uow.jobs.in_flight(request)
            if not request.status.is_terminal or in_flight:
                raise RequestNotFinished(
                    f"request {request_id} is {request.status} with {request.waiting} images not finished; "
                    "cancel it and delete it once they are"
                )
            self.storage.delete(uow.sources.release_outputs(request))
            uow.requests.delete(request)
            uow.commit()
