"""The management API: a tenant lists, cancels, retries and deletes its requests, and manages its webhooks."""

from litestar import Controller, Request, delete, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromQuery

from imgopt.adapters.status_documents import status_fields
from imgopt.application.ports import StorageFailed
from imgopt.application.use_cases.management import CancelRequest, DeleteRequest, RetryRequest
from imgopt.application.use_cases.status import ListRequests
from imgopt.application.use_cases.webhook_management import (
    DeleteWebhook,
    ListDeliveries,
    ListWebhooks,
    Redeliver,
    RotateWebhookSecret,
)
from imgopt.domain.request import UploadRequest
from imgopt.domain.status import StatusSummary
from imgopt.domain.webhooks import Webhook
from imgopt.entrypoints.http import schemas
from imgopt.entrypoints.http.auth import tenant_of
from imgopt.entrypoints.http.bodies import delivery_body
from imgopt.entrypoints.http.cursors import DELIVERY_ID, decode_cursor, encode_cursor
from imgopt.entrypoints.http.errors import ApiError
from imgopt.entrypoints.http.openapi import (
    KEYED,
    REQUESTS,
    WEBHOOKS,
    Cursor,
    DeliveryCursor,
    DeliveryIdPath,
    Limit,
    RequestIdPath,
    StatusFilter,
    WebhookIdPath,
    problems,
)
from imgopt.entrypoints.http.parsing import parse_status, parse_uuid
from imgopt.entrypoints.http.status_cache import StatusCache

LIST_SIZE = 20


class RequestsController(Controller):
    path = "/requests"
    tags = [REQUESTS]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(
        sync_to_thread=True,
        operation_id="list_requests",
        summary="The caller's requests, newest first",
        responses=problems(400, *KEYED),
    )
    def list_requests(
        self,
        list_requests: NamedDependency[ListRequests],
        request: Request,
        status: FromQuery[StatusFilter] = None,
        cursor: FromQuery[Cursor] = None,
        limit: FromQuery[Limit] = LIST_SIZE,
    ) -> schemas.RequestList:
        """One page (`limit`, at most 1000); follow `nextCursor` with `&cursor=` until it is null.
        `status` keeps only the requests in that state."""
        page = list_requests(tenant_of(request), parse_status(status), decode_cursor(cursor), limit)
        return schemas.RequestList(requests=[_listed(s) for s in page.items], next_cursor=encode_cursor(page.next))

    @post(
        "/{request_id:str}/cancel",
        operation_id="cancel_request",
        status_code=200,
        summary="Cancel a request",
        responses=problems(400, 404, 409, *KEYED),
    )
    async def cancel(
        self,
        request_id: RequestIdPath,
        cancel_request: NamedDependency[CancelRequest],
        status_cache: NamedDependency[StatusCache],
        request: Request,
    ) -> schemas.RequestChange:
        """Images not yet started are cancelled; those being processed may still finish. The request
        ends as `cancelled` at once and its webhooks are told. A finished request answers 409."""
        return _changed(await _change(cancel_request, request, request_id, status_cache))

    @post(
        "/{request_id:str}/retry",
        operation_id="retry_request",
        status_code=200,
        summary="Retry a request's failed images",
        responses=problems(400, 404, 409, *KEYED),
    )
    async def retry(
        self,
        request_id: RequestIdPath,
        retry_request: NamedDependency[RetryRequest],
        status_cache: NamedDependency[StatusCache],
        request: Request,
    ) -> schemas.RequestChange:
        """Failed images are queued again with fresh attempts; the request is `processing` again and is
        announced again when it finishes. 409 while it runs, or when nothing failed."""
        return _changed(await _change(retry_request, request, request_id, status_cache))

    @delete(
        "/{request_id:str}",
        status_code=204,
        operation_id="delete_request",
        summary="Delete a request and its outputs",
        responses=problems(400, 404, 409, *KEYED, 503),
    )
    async def delete_request(
        self,
        request_id: RequestIdPath,
        delete_request: NamedDependency[DeleteRequest],
        status_cache: NamedDependency[StatusCache],
        request: Request,
    ) -> None:
        """Its optimized images are deleted from storage, then its rows. 409 until it has finished
        (cancel it first) and no image of it is being processed; 503 when the storage does not answer
        (nothing is deleted from the database then: call again)."""
        try:
            await _change(delete_request, request, request_id, status_cache)
        except StorageFailed:
            raise ApiError(503, "storage_unavailable", "the output storage is not answering; try again later") from None


class WebhooksController(Controller):
    path = "/webhooks"
    tags = [WEBHOOKS]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(
        sync_to_thread=True,
        operation_id="list_webhooks",
        summary="The caller's webhooks, newest first",
        responses=problems(400, *KEYED),
    )
    def list_webhooks(
        self,
        list_webhooks: NamedDependency[ListWebhooks],
        request: Request,
        cursor: FromQuery[Cursor] = None,
        limit: FromQuery[Limit] = LIST_SIZE,
    ) -> schemas.WebhookList:
        """Secrets are never listed: they are shown once, at registration and rotation."""
        page = list_webhooks(tenant_of(request), decode_cursor(cursor), limit)
        return schemas.WebhookList(webhooks=[_webhook(w) for w in page.items], next_cursor=encode_cursor(page.next))

    @delete(
        "/{webhook_id:str}",
        status_code=204,
        operation_id="delete_webhook",
        sync_to_thread=True,
        summary="Delete a webhook",
        responses=problems(400, 404, *KEYED),
    )
    def delete_webhook(
        self, webhook_id: WebhookIdPath, delete_webhook: NamedDependency[DeleteWebhook], request: Request
    ) -> None:
        """Nothing more is sent to it; its deliveries and their log go with it."""
        delete_webhook(tenant_of(request), parse_uuid(webhook_id, "webhookId"))

    @post(
        "/{webhook_id:str}/rotate-secret",
        operation_id="rotate_webhook_secret",
        status_code=200,
        sync_to_thread=True,
        summary="Rotate a webhook's secret",
        responses=problems(400, 404, *KEYED),
    )
    def rotate_secret(
        self,
        webhook_id: WebhookIdPath,
        rotate_webhook_secret: NamedDependency[RotateWebhookSecret],
        request: Request,
    ) -> schemas.RotatedSecret:
        """A new `whsec_` secret, shown only here. Until `previousSecretExpiresAt` (24 h) every message
        carries two signatures in `webhook-signature`, one per secret, so either verifies."""
        webhook = rotate_webhook_secret(tenant_of(request), parse_uuid(webhook_id, "webhookId"))
        return schemas.RotatedSecret(
            id=webhook.id, secret=webhook.secret, previous_secret_expires_at=webhook.previous_secret_until
        )

    @get(
        "/{webhook_id:str}/deliveries",
        operation_id="list_deliveries",
        sync_to_thread=True,
        summary="A webhook's deliveries and their attempts",
        responses=problems(400, 404, *KEYED),
    )
    def deliveries(
        self,
        webhook_id: WebhookIdPath,
        list_deliveries: NamedDependency[ListDeliveries],
        request: Request,
        cursor: FromQuery[DeliveryCursor] = None,
        limit: FromQuery[Limit] = LIST_SIZE,
    ) -> schemas.DeliveryList:
        """Newest first; each with every attempt: when, the receiver's status code or the error, how long."""
        after = decode_cursor(cursor, DELIVERY_ID)
        page = list_deliveries(tenant_of(request), parse_uuid(webhook_id, "webhookId"), after, limit)
        return schemas.DeliveryList(
            deliveries=[delivery_body(d, attempts) for d, attempts in page.items], next_cursor=encode_cursor(page.next)
        )


class DeliveriesController(Controller):
    path = "/deliveries"
    tags = [WEBHOOKS]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/{delivery_id:str}/redeliver",
        operation_id="redeliver",
        status_code=202,
        sync_to_thread=True,
        summary="Send a delivery again",
        responses=problems(400, 404, 409, *KEYED),
    )
    def redeliver(
        self, delivery_id: DeliveryIdPath, redeliver: NamedDependency[Redeliver], request: Request
    ) -> schemas.Redelivered:
        """The same body under the same `webhook-id`, signed afresh, attempted at once. 409 while it is
        still pending."""
        delivery = redeliver(tenant_of(request), delivery_id.strip()[:100])
        return schemas.Redelivered(
            id=delivery.id, webhook_id=delivery.webhook_id, status=delivery.status.value,
            next_attempt_at=delivery.next_attempt_at,
        )  # fmt: skip


async def _change(use_case, request: Request, request_id: str, status_cache: StatusCache):
    """Run a use case that changes the caller's request; this process's cached status of it is dropped."""
    key = (tenant_of(request), parse_uuid(request_id, "requestId"))
    try:
        return await sync_to_thread(use_case, *key)
    finally:
        status_cache.forget(key)


def _listed(summary: StatusSummary) -> schemas.RequestListItem:
    fields = status_fields(summary, None)
    return schemas.RequestListItem(
        request_id=summary.request_id,
        status=summary.status.value,
        created_at=summary.created_at,
        started_at=summary.started_at,
        finished_at=summary.finished_at,
        images=fields["images"],
        products=fields["products"],
    )


def _changed(request: UploadRequest) -> schemas.RequestChange:
    images = status_fields(StatusSummary.of(request), None)["images"]
    return schemas.RequestChange(request_id=request.id, status=request.status.value, images=images)


def _webhook(webhook: Webhook) -> schemas.WebhookBody:
    return schemas.WebhookBody(
        id=webhook.id,
        request_id=webhook.request_id,
        webhook_url=webhook.url,
        format=webhook.format.value,
        enabled=webhook.enabled,
        created_at=webhook.created_at,
        previous_secret_expires_at=webhook.previous_secret_until,
    )
