"""What the OpenAPI document says about errors, ids, parameters and open routes, so that generators can use it."""

from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated

from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIHeader, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Schema, Tag
from litestar.params import Parameter

from imgopt.domain.formats import ImageFormat
from imgopt.domain.lifecycle import RequestStatus
from imgopt.entrypoints.http.cursors import DELIVERY_ID, LINE_CURSOR, UUID_ID, cursor_pattern
from imgopt.entrypoints.http.errors import PROBLEM_MEDIA_TYPE
from imgopt.entrypoints.http.schemas import Problem

# The groups of operations: sections of the docs pages, modules of a generated client (`api.uploads.upload`).
UPLOADS, REQUESTS, WEBHOOKS, FILES, HEALTH = "uploads", "requests", "webhooks", "files", "health"
TAGS = [
    Tag(UPLOADS, "Upload a CSV of products, follow its progress, fetch its output CSV"),
    Tag(REQUESTS, "The tenant's uploads: list them, cancel, retry or delete one"),
    Tag(WEBHOOKS, "Be told when uploads finish: webhooks, their secrets, their deliveries"),
    Tag(FILES, "The optimized images, behind the output URLs; no key needed"),
    Tag(HEALTH, "Whether the process is up and its database ready; no key needed"),
]

# What each status means in this API, with the `code`s it carries; docs/api.md says when each is given.
_MEANINGS = {
    400: "Malformed: a bad id, parameter, cursor or body (`invalid_id`, `invalid_request`, `invalid_cursor`, "
    "`invalid_status`, `bad_request`)",
    401: "No API key, or one that is malformed, unknown or revoked (`unauthenticated`; with `WWW-Authenticate`)",
    404: "Nothing of the caller's tenant has this id (`request_not_found`, `webhook_not_found`, "
    "`delivery_not_found`); another tenant's ids answer exactly the same",
    409: "Not now: the upload has not finished yet, or is in a state the change does not apply to "
    "(`request_not_finished`, `illegal_transition`)",
    413: "Larger than a limit: the body, the form or the rows (`payload_too_large`, `form_too_large`, `too_many_rows`)",
    415: "Not the media type the operation reads (`unsupported_media_type`)",
    422: "Well-formed but refused: a bad CSV, option, URL or webhook (`invalid_csv`, `invalid_options`, "
    "`missing_file`, `unsafe_url`, `invalid_webhook`)",
    429: "Over a limit: too many calls with this key (`rate_limited`, with `Retry-After`), or too many of the "
    "tenant's images waiting (`too_many_waiting_images`)",
    503: "Not ready: the database does not answer or is not migrated (`not_ready`)",
}


def problems(*statuses: int, meanings: dict[int, str] | None = None) -> dict[int, ResponseSpec]:
    """An operation's error responses, each a problem document: `@get(..., responses=problems(400, 404))`;
    `meanings` words a status for this operation where the usual meaning does not fit."""
    meanings = {**_MEANINGS, **(meanings or {})}
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=meanings.get(status, HTTPStatus(status).phrase),
            generate_examples=False,
        )
        for status in statuses
    }


# What every operation behind a key may also answer.
KEYED = (401, 429)
MAX_PAGE = 1000

RequestIdPath = Annotated[str, Parameter(description="The upload's `requestId`", schema_extra={"format": "uuid"})]
WebhookIdPath = Annotated[str, Parameter(description="The webhook's `id`", schema_extra={"format": "uuid"})]
DeliveryIdPath = Annotated[
    str, Parameter(description="The delivery's `id` (its `webhook-id`, `msg_…`)", min_length=1, max_length=100)
]
Limit = Annotated[int, Parameter(description=f"How many to answer, 1 to {MAX_PAGE}", ge=1, le=MAX_PAGE)]


def _cursor(pattern: str, description: str) -> object:
    # Only documented: the handler checks the pattern itself, to answer its own 400 `invalid_cursor`.
    schema = {"one_of": None, "type": OpenAPIType.STRING, "pattern": pattern}
    return Annotated[str | None, Parameter(description=description, schema_extra=schema)]


_NEXT = "The `nextCursor` of the page before; absent for the first page"
Cursor = _cursor(cursor_pattern(UUID_ID), _NEXT)
DeliveryCursor = _cursor(cursor_pattern(DELIVERY_ID), _NEXT)
LineCursor = _cursor(f"^{LINE_CURSOR}$", "The `details.nextCursor` of the page before; absent for the first page")
StatusFilter = Annotated[
    str | None,
    Parameter(
        description="Only the requests in this state",
        schema_extra={"one_of": None, "type": OpenAPIType.STRING, "enum": [status.value for status in RequestStatus]},
    ),
]


@dataclass
class PublicOperation(Operation):
    """An operation anyone may call, key or not: `security: []` overrides the document's API keys."""

    def __post_init__(self) -> None:
        self.security = []


# What `/files` may hold: an optimized image in any format imgopt writes (`original` keeps the input's); an object
# stored without a known type is sent as bytes, which is also what tells generators to return bytes, not decode JSON.
FILE_MEDIA_TYPES = (*dict.fromkeys(fmt.media_type for fmt in ImageFormat), "application/octet-stream")


@dataclass
class FileDownload(PublicOperation):
    """`GET /files/{key}`: the image's bytes in its own media type, or a 307 to object storage."""

    def __post_init__(self) -> None:
        super().__post_init__()
        image = Schema(type=OpenAPIType.STRING, format="binary")
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The optimized image, served from the filesystem the API writes to",
                content={media_type: OpenAPIMediaType(schema=image) for media_type in FILE_MEDIA_TYPES},
                headers={
                    "Content-Length": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER, minimum=0)),
                    "Cache-Control": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING)),
                },
            ),
            "307": OpenAPIResponse(
                description="The image is in object storage: follow `Location`, a presigned URL valid for an hour",
                headers={
                    "Location": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING, format="uri"), required=True),
                    "Cache-Control": OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING)),
                },
            ),
        }


@dataclass
class FileDescription(PublicOperation):
    """`HEAD /files/{key}`: the headers of the download, no body."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The image's size and media type, without its bytes",
                headers={"Content-Length": OpenAPIHeader(schema=Schema(type=OpenAPIType.INTEGER, minimum=0))},
            ),
        }
