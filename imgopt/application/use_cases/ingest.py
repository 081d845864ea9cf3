"""Ingest an uploaded CSV: every row valid and stored, or nothing stored at all."""

from dataclasses import dataclass
from typing import BinaryIO
from uuid import UUID

from imgopt.application.ports import Clock, IdGenerator, UnitOfWork, UnitOfWorkFactory, WorkSignal
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.domain.limits import WaitingImagesLimit
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.product_csv import CsvCounts, CsvLimits, ProductCsvReader
from imgopt.domain.request import UploadRequest
from imgopt.domain.webhooks import Webhook, WebhookFormat


@dataclass(frozen=True, slots=True)
class IngestReceipt:
    request_id: UUID
    product_count: int
    image_count: int
    webhook: Webhook | None = None
    webhook_warning: str | None = None


@dataclass(frozen=True, slots=True)
class IngestCsv:
    """Stream the CSV into bulk storage, in one transaction: every row valid and stored, or none.

    A file of the common shape is first offered to the repository, which reads and stores it in
    bulk or declines it. Any other file, or one whose serials repeat, is read again from where
    it started through the row-by-row rules, which store it or explain what is wrong: a single
    bad row anywhere rolls the transaction back and raises CsvRejected listing the problems.
    Memory stays flat whatever the size of the file. An upload that would take the tenant past its
    limit of images waiting at once is rolled back too (TooManyWaitingImages).
    """

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    limits: CsvLimits
    register_webhook: RegisterWebhook
    image_work: WorkSignal
    waiting_limit: WaitingImagesLimit

    def __call__(
        self,
        tenant_id: UUID,
        csv_file: BinaryIO,
        options: OptimizationOptions = OptimizationOptions(),
        webhook_url: str | None = None,
        webhook_format: WebhookFormat = WebhookFormat.JSON,
    ) -> IngestReceipt:
        request_id = self.ids.uuid()
        registration = (
            self.register_webhook.prepare(tenant_id, webhook_url, request_id, webhook_format) if webhook_url else None
        )
        with self.uow() as uow:
            counts = self._add_products(uow, request_id, csv_file)
            self.waiting_limit.check(uow.tenants.waiting_images(tenant_id), counts.image_count)
            request = UploadRequest(
                id=request_id,
                tenant_id=tenant_id,
                options=options,
                created_at=self.clock.now(),
                product_count=counts.product_count,
                image_count=counts.image_count,
                last_line=counts.last_line,
            )
            uow.requests.add(request)
            if registration:
                uow.webhooks.add(registration.webhook)
            uow.commit()
        self.image_work.notify()
        if registration is None:
            return IngestReceipt(request_id, counts.product_count, counts.image_count)
        return IngestReceipt(
            request_id, counts.product_count, counts.image_count, registration.webhook, registration.warning
        )

    def _add_products(self, uow: UnitOfWork, request_id: UUID, csv_file: BinaryIO) -> CsvCounts:
        """Store the products: in bulk if the repository takes the file whole, else row by row (or CsvRejected)."""
        if csv_file.seekable():
            start = csv_file.tell()
            counts = uow.products.add_plain(request_id, csv_file, self.limits)
            if counts:
                return counts
            csv_file.seek(start)
        reader = ProductCsvReader(csv_file, self.limits)
        uow.products.add_many(request_id, reader)
        reader.raise_if_invalid()
        return reader.counts()
