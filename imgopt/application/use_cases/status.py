"""Read a request's status, a page of its products, and its output CSV once it has finished."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from imgopt.application.errors import RequestNotFinished, RequestNotFound
from imgopt.application.links import Links
from imgopt.application.ports import Page, Position, Scope, StatusReader
from imgopt.domain.lifecycle import RequestStatus
from imgopt.domain.product_csv import OUTPUT_HEADER
from imgopt.domain.spreadsheet import neutralise_row
from imgopt.domain.status import ProductDetail, StatusSummary
from imgopt.domain.webhooks import AttemptResult, Delivery

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class StatusDetails:
    """One page of products with their images (`next_after_line` starts the next; None on the last),
    and every webhook delivery with its attempts."""

    products: list[ProductDetail]
    next_after_line: int | None
    deliveries: list[tuple[Delivery, list[AttemptResult]]]


@dataclass(frozen=True, slots=True)
class StatusReport:
    summary: StatusSummary
    output_csv_url: str | None
    details: StatusDetails | None = None


@dataclass(frozen=True, slots=True)
class GetStatus:
    """The tenant's request: its counts, and with `details` a page of products and its deliveries."""

    reader: StatusReader
    links: Links

    def __call__(
        self, tenant_id: UUID, request_id: UUID, details: bool = False, after_line: int = 0, page_size: int = PAGE_SIZE
    ) -> StatusReport:
        summary = self.reader.summary(request_id, tenant_id)
        if summary is None:
            raise RequestNotFound(f"no request with id {request_id}")
        output_csv_url = self.links.output_csv(request_id) if summary.finished else None
        if not details:
            return StatusReport(summary, output_csv_url)
        page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        products = list(self.reader.products(request_id, tenant_id, after_line, limit=page_size + 1))
        next_after_line = products[page_size - 1].line if len(products) > page_size else None
        page = StatusDetails(products[:page_size], next_after_line, self.reader.deliveries(request_id, tenant_id))
        return StatusReport(summary, output_csv_url, page)


@dataclass(frozen=True, slots=True)
class ListRequests:
    """The tenant's requests, newest first, a page at a time, optionally only those with one status."""

    reader: StatusReader

    def __call__(
        self, tenant_id: UUID, status: RequestStatus | None = None, after: Position | None = None, limit: int = 20
    ) -> Page[StatusSummary]:
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        return self.reader.requests(tenant_id, status.value if status else None, after, limit)


@dataclass(frozen=True, slots=True)
class ExportOutputCsv:
    """The original's output CSV, one row per input row, outputs in input order.

    With `formula_escape` (the default) a cell a spreadsheet would run as a formula gets a leading `'`
    (domain.spreadsheet); the webhook's `multipart-csv` body is this same file.
    """

    reader: StatusReader
    formula_escape: bool = True

    def __call__(self, tenant_id: Scope, request_id: UUID) -> Iterator[bytes]:
        """Check at once that the request exists and has finished; then stream the file in chunks."""
        summary = self.reader.summary(request_id, tenant_id)
        if summary is None:
            raise RequestNotFound(f"no request with id {request_id}")
        if not summary.finished:
            raise RequestNotFinished(
                f"request {request_id} is still {summary.status}: {summary.images.pending + summary.images.processing}"
                f" of {summary.images.total} images to go; the output CSV exists once it has finished"
            )
        return self._rows(request_id, tenant_id)

    def _rows(self, request_id: UUID, tenant_id: Scope) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(OUTPUT_HEADER)
        for count, product in enumerate(self.reader.products(request_id, tenant_id), start=1):
            row = product.output_row()
            writer.writerow(neutralise_row(row) if self.formula_escape else row)
            if count % 1000 == 0:
                yield _drain(buffer)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
