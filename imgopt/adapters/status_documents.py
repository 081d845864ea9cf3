"""The public JSON documents: the status of a request, as the status endpoint and the webhooks carry it.

Defined once, here, where both wires can reach it: the HTTP entrypoint answers with these
structs, and the webhook payloads are built from them.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec

from imgopt.application.ports import EventDocuments
from imgopt.domain.options import AUTO, MAX_DIMENSION, MAX_QUALITY, OutputFormat
from imgopt.domain.status import StatusSummary
from imgopt.domain.webhooks import COMPLETED_EVENT


class Document(msgspec.Struct, rename="camel", kw_only=True):
    pass


class AutoQuality(StrEnum):
    """The quality the optimizer chooses per image; an integer or this, so that client generators can read it."""

    AUTO = AUTO


Quality = Annotated[int, msgspec.Meta(ge=1, le=MAX_QUALITY)]
Dimension = Annotated[int, msgspec.Meta(ge=1, le=MAX_DIMENSION)]


class OptionsDocument(Document):
    quality: Quality | AutoQuality
    max_width: Dimension | None
    max_height: Dimension | None
    format: OutputFormat


class ProductCountsDocument(Document):
    total: int
    finished: int
    with_errors: int


class ImageCountsDocument(Document):
    total: int
    pending: int
    processing: int
    optimized: int
    failed: int
    cancelled: int


class StatusDocument(Document):
    request_id: UUID
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    options: OptionsDocument
    products: ProductCountsDocument
    images: ImageCountsDocument
    bytes_in: int
    bytes_out: int
    output_csv_url: str | None


class EventDocument(Document):
    type: str
    timestamp: datetime
    data: StatusDocument


def status_fields(summary: StatusSummary, output_csv_url: str | None) -> dict[str, Any]:
    """The fields of a StatusDocument (or of a struct extending it) for `summary`."""
    options, products, images = summary.options, summary.products, summary.images
    return {
        "request_id": summary.request_id,
        "status": summary.status.value,
        "created_at": summary.created_at,
        "started_at": summary.started_at,
        "finished_at": summary.finished_at,
        "options": OptionsDocument(
            quality=AutoQuality.AUTO if options.auto_quality else options.quality,
            max_width=options.max_width,
            max_height=options.max_height,
            format=options.format,
        ),
        "products": ProductCountsDocument(
            total=products.total, finished=products.finished, with_errors=products.with_errors
        ),
        "images": ImageCountsDocument(
            total=images.total,
            pending=images.pending,
            processing=images.processing,
            optimized=images.optimized,
            failed=images.failed,
            cancelled=images.cancelled,
        ),
        "bytes_in": summary.bytes_in,
        "bytes_out": summary.bytes_out,
        "output_csv_url": output_csv_url,
    }


class JsonEventDocuments(EventDocuments):
    def request_finished(self, summary: StatusSummary, output_csv_url: str, at: datetime) -> dict[str, Any]:
        event = EventDocument(
            type=COMPLETED_EVENT, timestamp=at, data=StatusDocument(**status_fields(summary, output_csv_url))
        )
        return msgspec.to_builtins(event)
