"""Ingest an uploaded CSV: every row valid and stored, or nothing stored at all."""

from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from imgopt.application.ports import Clock, IdGenerator, UnitOfWorkFactory, WorkSignal
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.domain.limits import WaitingImagesLimit
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.product_csv import CsvLimits, ProductCsvReader
from imgopt.domain.request import UploadRequest
from imgopt.domain.webhooks import Webhook, WebhookFormat


@dataclass(frozen=True, slots=True)
class IngestReceipt:
    request_id: UUID
    product_count: int
    image_count: int
    webhook: Webhook | None = None
    webhook_warning: str | None = None


class IngestCsv:
    """Stream the CSV through the row rules straight into bulk storage, in one transaction.

    The file is read once, row by row, so memory stays flat whatever its size. Rows are
    written while later ones are still being checked; a single bad row anywhere rolls the
    whole transaction back and raises CsvRejected listing the problems. So does an upload that
    would take the tenant past its limit of images waiting at once.
    """

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        ids: IdGenerator,
        limits: CsvLimits,
        register_webhook: RegisterWebhook,
        image_work: WorkSignal,
        waiting_limit: WaitingImagesLimit,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._ids = ids
        self._limits = limits
        self._register_webhook = register_webhook
        self._image_work = image_work
        self._waiting_limit = waiting_limit

    def __call__(
        self,
        tenant_id: UUID,
        csv_file: BinaryIO,
        options: OptimizationOptions = OptimizationOptions(),
        webhook_url: str | None = None,
        webhook_format: WebhookFormat = WebhookFormat.JSON,
    ) -> IngestReceipt:
        request_id = self._ids.uuid()
        registration = (
            self._register_webhook.prepare(tenant_id, webhook_url, request_id, webhook_format) if webhook_url else None
        )
        reader = ProductCsvReader(csv_file, self._limits)
        with self._uow() as uow:
            uow.products.add_many(request_id, reader)
            reader.raise_if_invalid()
            self._waiting_limit.check(uow.tenants.waiting_images(tenant_id), reader.image_count)
            request = UploadRequest(
                id=request_id,
                tenant_id=tenant_id,
                options=options,
                created_at=self._clock.now(),
                product_count=reader.product_count,
                image_count=reader.image_count,
                last_line=reader.last_line,
            )
            uow.requests.add(request)
            if registration:
                uow.webhooks.add(registration.webhook)
            uow.commit()
        self._image_work.notify()
        if registration is None:
            return IngestReceipt(request_id, reader.product_count, reader.image_count)
        return IngestReceipt(
            request_id, reader.product_count, reader.image_count, registration.webhook, registration.warning
        )
