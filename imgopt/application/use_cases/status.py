"""Read a request's status, and its output CSV once it has finished."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from uuid import UUID

from imgopt.application.errors import RequestNotFinished, RequestNotFound
from imgopt.application.links import Links
from imgopt.application.ports import UnitOfWorkFactory
from imgopt.domain.product_csv import OUTPUT_HEADER
from imgopt.domain.status import ProductDetail, StatusSummary
from imgopt.domain.webhooks import AttemptResult, Delivery


@dataclass(frozen=True, slots=True)
class StatusReport:
    summary: StatusSummary
    output_csv_url: str | None
    products: list[ProductDetail] = field(default_factory=list)
    deliveries: list[tuple[Delivery, list[AttemptResult]]] = field(default_factory=list)


class GetStatus:
    def __init__(self, uow: UnitOfWorkFactory, links: Links) -> None:
        self._uow = uow
        self._links = links

    def __call__(self, request_id: UUID, details: bool = False) -> StatusReport:
        # The summary alone is one statement; the details stream rows, which takes a transaction.
        with self._uow() if details else self._uow().read() as uow:
            summary = uow.requests.summary(request_id)
            if summary is None:
                raise RequestNotFound(f"no request with id {request_id}")
            output_csv_url = self._links.output_csv(request_id) if summary.finished else None
            if not details:
                return StatusReport(summary, output_csv_url)
            products = list(uow.products.details(request_id))
            return StatusReport(summary, output_csv_url, products, uow.deliveries.for_request(request_id))


class ExportOutputCsv:
    """The original's output CSV, one row per input row, outputs in input order."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def __call__(self, request_id: UUID) -> Iterator[bytes]:
        """Check at once that the request exists and has finished; then stream the file in chunks."""
        with self._uow().read() as uow:
            summary = uow.requests.summary(request_id)
        if summary is None:
            raise RequestNotFound(f"no request with id {request_id}")
        if not summary.finished:
            raise RequestNotFinished(
                f"request {request_id} is still {summary.status}: {summary.images.pending + summary.images.processing}"
                f" of {summary.images.total} images to go; the output CSV exists once it has finished"
            )
        return self._rows(request_id)

    def _rows(self, request_id: UUID) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(OUTPUT_HEADER)
        with self._uow() as uow:
            for count, product in enumerate(uow.products.details(request_id), start=1):
                writer.writerow(product.output_row())
                if count % 1000 == 0:
                    yield _drain(buffer)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    return data
