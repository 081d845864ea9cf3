"""The API's routes: the original's three endpoints, plus the output CSV, health and readiness."""

import logging

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.concurrency import sync_to_thread
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, MultipartBody
from litestar.response import Stream
from sqlalchemy import Engine

from imgopt.adapters.postgres.engine import readiness_problem
from imgopt.application.links import Links
from imgopt.application.use_cases.default_quality import ParseUploadOptions
from imgopt.application.use_cases.ingest import IngestCsv
from imgopt.application.use_cases.registration import RegisterWebhook
from imgopt.application.use_cases.status import PAGE_SIZE, ExportOutputCsv, GetStatus
from imgopt.entrypoints.http import schemas
from imgopt.entrypoints.http.auth import OPEN, tenant_of
from imgopt.entrypoints.http.bodies import status_response
from imgopt.entrypoints.http.cursors import decode_line_cursor
from imgopt.entrypoints.http.errors import ApiError, unavailable
from imgopt.entrypoints.http.openapi import (
    HEALTH,
    KEYED,
    UPLOADS,
    WEBHOOKS,
    Limit,
    LineCursor,
    PublicOperation,
    RequestIdPath,
    problems,
)
from imgopt.entrypoints.http.parsing import parse_format, parse_uuid
from imgopt.entrypoints.http.status_cache import StatusCache

log = logging.getLogger(__name__)


async def read_multipart_form(request: Request) -> None:
    """Refuse anything but a form with a file, and read it here, where the request class turns undecodable fields into
    400s."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the CSV as multipart/form-data in the field 'file' (curl -F file=@products.csv …)",
        )
    if "file" not in await request.form():
        raise ApiError(422, "missing_file", "the form has no file; send the CSV in the field 'file'")


class UploadController(Controller):
    path = "/upload"
    tags = [UPLOADS]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        before_request=read_multipart_form,
        status_code=202,
        sync_to_thread=True,
        operation_id="upload",
        summary="Upload a CSV of products and their image URLs",
        responses=problems(400, 413, 415, 422, *KEYED),
    )
    def upload(
        self,
        data: MultipartBody[schemas.UploadForm],
        parse_upload_options: NamedDependency[ParseUploadOptions],
        ingest_csv: NamedDependency[IngestCsv],
        links: NamedDependency[Links],
        request: Request,
    ) -> schemas.UploadResponse:
        """Multipart form: `file` (the CSV), and optionally `webhookUrl`, `webhookFormat`, `quality`,
        `maxWidth`, `maxHeight`, `format`. Every row is checked; one bad row refuses the whole file.
        Without `quality` the tenant's default quality applies (the original's 50 unless the operator set another)."""
        tenant = tenant_of(request)
        options = parse_upload_options(tenant, data.quality, data.max_width, data.max_height, data.format)
        with data.file.file as csv_file:
            receipt = ingest_csv(tenant, csv_file, options, data.webhook_url, parse_format(data.webhook_format))
        webhook = receipt.webhook
        log.info(
            "upload accepted: %d products, %d images",
            receipt.product_count,
            receipt.image_count,
            extra={"request_id": str(receipt.request_id)},
        )
        return schemas.UploadResponse(
            request_id=receipt.request_id,
            status="pending",
            products=receipt.product_count,
            images=receipt.image_count,
            status_url=f"{links.base_url.rstrip('/')}/status/{receipt.request_id}",
            webhook=schemas.WebhookSecret(
                id=webhook.id,
                webhook_url=webhook.url,
                format=webhook.format.value,
                secret=webhook.secret,
                warning=receipt.webhook_warning,
            )
            if webhook
            else None,
        )


class StatusController(Controller):
    path = "/status/{request_id:str}"
    tags = [UPLOADS]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(operation_id="get_status", summary="Progress of one upload", responses=problems(400, 404, *KEYED))
    async def status(
        self,
        request_id: RequestIdPath,
        get_status: NamedDependency[GetStatus],
        status_cache: NamedDependency[StatusCache],
        request: Request,
        details: FromQuery[bool] = False,
        cursor: FromQuery[LineCursor] = None,
        limit: FromQuery[Limit] = PAGE_SIZE,
    ) -> Response[schemas.StatusResponse]:
        """Counts of products and images, bytes in and out, and `outputCsvUrl` once finished.
        `?details=true` adds a page of products with their images (`limit`, at most 1000; follow
        `details.nextCursor` with `&cursor=` until it is null) and every webhook delivery attempt.
        Without details the answer may be up to IMGOPT_STATUS_CACHE_SECONDS old."""
        identifier, tenant = parse_uuid(request_id, "requestId"), tenant_of(request)
        if details:
            after_line = decode_line_cursor(cursor)
            report = await sync_to_thread(get_status, tenant, identifier, True, after_line, limit)
            return Response(status_response(report))

        async def load() -> bytes:
            return msgspec.json.encode(status_response(await sync_to_thread(get_status, tenant, identifier)))

        return Response(await status_cache.get((tenant, identifier), load), media_type=MediaType.JSON)

    @get(
        "/output.csv",
        sync_to_thread=True,
        operation_id="get_output_csv",
        summary="The output CSV of a finished upload",
        media_type="text/csv",
        responses=problems(400, 404, 409, *KEYED),
    )
    def output_csv(
        self,
        request_id: RequestIdPath,
        export_output_csv: NamedDependency[ExportOutputCsv],
        request: Request,
    ) -> Stream:
        identifier = parse_uuid(request_id, "requestId")
        chunks = export_output_csv(tenant_of(request), identifier)
        return Stream(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="imgopt-{identifier}.csv"'},
        )


class WebhookController(Controller):
    path = "/webhook"
    tags = [WEBHOOKS]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @post(
        "/register",
        status_code=201,
        sync_to_thread=True,
        operation_id="register_webhook",
        summary="Register a webhook for one upload, or for all",
        responses=problems(400, 404, 413, 422, *KEYED),
    )
    def register(
        self,
        data: JSONBody[schemas.RegisterWebhookBody],
        register_webhook: NamedDependency[RegisterWebhook],
        request: Request,
    ) -> schemas.WebhookResponse:
        """Without `requestId` the webhook announces every upload of the caller's tenant. The response
        holds the signing secret (`whsec_…`, Standard Webhooks); it is shown only here. A host that does
        not resolve right now is accepted, with a `warning`."""
        request_id = parse_uuid(data.request_id, "requestId") if data.request_id is not None else None
        registration = register_webhook(tenant_of(request), data.webhook_url, request_id, parse_format(data.format))
        webhook = registration.webhook
        return schemas.WebhookResponse(
            id=webhook.id,
            request_id=webhook.request_id,
            webhook_url=webhook.url,
            format=webhook.format.value,
            secret=webhook.secret,
            created_at=webhook.created_at,
            warning=registration.warning,
        )


class HealthController(Controller):
    path = "/"
    opt = {OPEN: True}  # noqa: RUF012 (Litestar reads it as a class attribute)
    tags = [HEALTH]  # noqa: RUF012

    @get("/health", operation_id="health", operation_class=PublicOperation, summary="The process is up")
    async def health(self) -> schemas.Health:
        return schemas.Health(status="ok")

    @get(
        "/ready",
        sync_to_thread=True,
        operation_id="ready",
        operation_class=PublicOperation,
        summary="The database answers and is migrated",
        responses=problems(503),
    )
    def ready(self, engine: NamedDependency[Engine]) -> Response:
        problem = readiness_problem(engine)
        if problem is not None:
            return unavailable(problem, code="not_ready")
        return Response(schemas.Health(status="ready"))
