"""Wire types: what the API reads and writes, camelCase on the wire."""

from dataclasses import fields
from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile
from litestar.openapi.spec import OpenAPIType, Schema

from imgopt.adapters.status_documents import ImageCountsDocument, ProductCountsDocument, StatusDocument
from imgopt.domain.image_results import RESULT_FIELDS, ImageResult
from imgopt.domain.options import AUTO, MAX_DIMENSION, MAX_QUALITY, OutputFormat
from imgopt.domain.status import ImageDetail, ProductDetail
from imgopt.domain.webhooks import WebhookFormat


def documented_as(**schema: object) -> msgspec.Meta:
    """A field read as text, which the handler parses itself (to word its own 422s), documented as what it must hold.

    Litestar copies `extra` onto the field's schema: `one_of=None` replaces the `string | null` it would write.
    """
    return msgspec.Meta(extra_json_schema={"extra": {"one_of": None, **schema}})


# An id the handler parses itself (to answer 400 `invalid_id`), documented as a UUID.
UuidText = Annotated[str, msgspec.Meta(extra_json_schema={"extra": {"format": "uuid"}})]
QualityField = Annotated[
    str,
    documented_as(
        description=f"Encoder quality, 1 to 100, or `{AUTO}`: per image, the smallest encoding that still looks right. "
        "Left out: the tenant's default quality (50, the original's, unless the operator set another)",
        one_of=[
            Schema(type=OpenAPIType.INTEGER, minimum=1, maximum=MAX_QUALITY),
            Schema(type=OpenAPIType.STRING, enum=[AUTO]),
        ],
    ),
]
DimensionField = Annotated[
    str,
    documented_as(
        type=OpenAPIType.INTEGER,
        minimum=1,
        maximum=MAX_DIMENSION,
        description="Scale down (never up) to at most this many pixels, keeping the aspect ratio",
    ),
]
FormatField = Annotated[
    str,
    documented_as(
        type=OpenAPIType.STRING,
        enum=[f.value for f in OutputFormat],
        description="The output format; `original` keeps each image's own",
    ),
]
WebhookFormatField = Annotated[
    str,
    documented_as(
        type=OpenAPIType.STRING,
        enum=[f.value for f in WebhookFormat],
        description="How the webhook is sent: the JSON event, or a multipart form with the output CSV",
    ),
]
WebhookUrlField = Annotated[
    str,
    documented_as(
        type=OpenAPIType.STRING,
        format="iri",
        pattern="^https?://",
        max_length=2048,
        description=(
            "An http(s) URL on a public host (an international host name is allowed), told when the upload has finished"
        ),
    ),
]


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    pass


CsvFileField = Annotated[
    UploadFile,
    documented_as(
        type=OpenAPIType.STRING,
        format="binary",
        content_media_type="text/csv",
        description="The CSV: columns S. No., Product Name, Input Image Urls",
    ),
]


class UploadForm(Wire):
    """Every field but `file` is optional."""

    file: CsvFileField
    webhook_url: WebhookUrlField | None = None
    webhook_format: WebhookFormatField | None = None
    quality: QualityField | None = None
    max_width: DimensionField | None = None
    max_height: DimensionField | None = None
    format: FormatField | None = None


class WebhookSecret(Wire, omit_defaults=True):
    id: UUID
    webhook_url: str
    format: str
    secret: str
    warning: str | None = None


class UploadResponse(Wire):
    request_id: UUID
    status: str
    products: int
    images: int
    status_url: str
    webhook: WebhookSecret | None = None


# An image of a product: where it stands and, once optimized, its result, one wire field per field of
# ImageResult (derived from it, so that a field added there is on the wire too; None until optimized).
ImageBody = msgspec.defstruct(
    "ImageBody",
    [
        ("position", int),
        ("input_url", str),
        ("status", str),
        ("attempts", int),
        ("output_url", str | None, None),
        ("failure_reason", str | None, None),
        *((field.name, field.type | None, None) for field in fields(ImageResult)),
    ],
    bases=(Wire,),
    module=__name__,
)


def image_body(image: ImageDetail) -> "ImageBody":
    result = {name: getattr(image.result, name) for name in RESULT_FIELDS} if image.result else {}
    return ImageBody(
        position=image.position,
        input_url=image.input_url,
        status=image.status.value,
        attempts=image.attempts,
        output_url=image.output_url,
        failure_reason=image.failure_reason,
        **result,
    )


class ProductBody(Wire):
    line: int
    serial: int
    name: str
    status: str
    images: list[ImageBody]


def product_body(product: ProductDetail) -> ProductBody:
    images = [image_body(image) for image in product.images]
    return ProductBody(
        line=product.line, serial=product.serial, name=product.name, status=product.status.value, images=images
    )


class AttemptBody(Wire):
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryBody(Wire):
    id: str
    webhook_id: UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    log: list[AttemptBody]


class DetailsBody(Wire):
    products: list[ProductBody]
    next_cursor: str | None
    webhook_deliveries: list[DeliveryBody]


class StatusResponse(StatusDocument, omit_defaults=True):
    """The status document the webhooks carry too; `?details=true` adds a page of products and the deliveries."""

    details: DetailsBody | None = None


class RegisterWebhookBody(Wire):
    webhook_url: WebhookUrlField
    request_id: UuidText | None = None
    format: WebhookFormatField = "json"


class WebhookResponse(Wire, omit_defaults=True):
    id: UUID
    request_id: UUID | None
    webhook_url: str
    format: str
    secret: str
    created_at: datetime
    warning: str | None = None


class Health(Wire):
    status: str


class CsvProblem(Wire):
    line: int
    column: str | None
    message: str


class Problem(Wire, omit_defaults=True):
    """Every error: RFC 9457 problem details, plus a stable `code` and, for CSVs, the offending lines."""

    status: int
    code: str
    title: str
    detail: str
    errors: list[CsvProblem] | None = None
    error_count: int | None = None


class RequestListItem(Wire):
    request_id: UUID
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    images: ImageCountsDocument
    products: ProductCountsDocument


class RequestList(Wire):
    requests: list[RequestListItem]
    next_cursor: str | None


class RequestChange(Wire):
    """What cancel and retry answer: the request as it now stands."""

    request_id: UUID
    status: str
    images: ImageCountsDocument


class WebhookBody(Wire):
    id: UUID
    request_id: UUID | None
    webhook_url: str
    format: str
    enabled: bool
    created_at: datetime
    previous_secret_expires_at: datetime | None


class WebhookList(Wire):
    webhooks: list[WebhookBody]
    next_cursor: str | None


class RotatedSecret(Wire):
    id: UUID
    secret: str
    previous_secret_expires_at: datetime


class DeliveryList(Wire):
    deliveries: list[DeliveryBody]
    next_cursor: str | None


class Redelivered(Wire):
    id: str
    webhook_id: UUID
    status: str
    next_attempt_at: datetime | None
