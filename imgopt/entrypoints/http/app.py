"""The application factory: routes, dependencies from the container, one error shape."""

from collections.abc import Callable, Sequence
from importlib.metadata import version

from dependency_injector import providers
from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig

from imgopt.bootstrap.containers import Container
from imgopt.bootstrap.settings import Settings
from imgopt.entrypoints.console.routes import console_router
from imgopt.entrypoints.http.api_docs import SCHEMA_PATH, api_reference, render_plugins, schema_router
from imgopt.entrypoints.http.auth import OPEN, api_key_middleware, security_scheme
from imgopt.entrypoints.http.controllers import (
    HealthController,
    StatusController,
    UploadController,
    WebhookController,
)
from imgopt.entrypoints.http.errors import BODY_LIMIT_SETTING, EXCEPTION_HANDLERS
from imgopt.entrypoints.http.files import FilesController
from imgopt.entrypoints.http.form_fields import FILE_FIELDS_TAKE_ONLY_FILES
from imgopt.entrypoints.http.management import DeliveriesController, RequestsController, WebhooksController
from imgopt.entrypoints.http.metrics import RequestMetrics, metrics_route
from imgopt.entrypoints.http.openapi import TAGS
from imgopt.entrypoints.http.request import GuardedRequest
from imgopt.entrypoints.http.security_headers import SecurityHeaders
from imgopt.entrypoints.http.status_cache import StatusCache

SMALL_BODY_LIMIT = 64 * 1024
# The use cases handlers ask for by name.
_USE_CASES = (
    "parse_upload_options",
    "ingest_csv",
    "get_status",
    "export_output_csv",
    "register_webhook",
    "list_requests",
    "cancel_request",
    "retry_request",
    "delete_request",
    "list_webhooks",
    "delete_webhook",
    "rotate_webhook_secret",
    "list_deliveries",
    "redeliver",
)


def _provide(provider: providers.Provider) -> Provide:
    return Provide(lambda: provider(), sync_to_thread=False)


def create_app(container: Container, settings: Settings, on_shutdown: Sequence[Callable[[], object]] = ()) -> Litestar:
    """The API on `container`; `on_shutdown` runs before the container's resources are released."""
    status_cache = StatusCache(settings.status_cache_seconds)

    def shutdown() -> None:
        # In this order: a worker in the same process drains before the engine and clients it uses close.
        for hook in on_shutdown:
            hook()
        container.shutdown_resources()

    uploads = Router(
        path="/",
        route_handlers=[UploadController],
        request_max_body_size=settings.max_upload_bytes,
        opt={BODY_LIMIT_SETTING: "IMGOPT_MAX_UPLOAD_BYTES"},
        type_decoders=[FILE_FIELDS_TAKE_ONLY_FILES],
    )
    app = Litestar(
        route_handlers=[
            uploads,
            StatusController,
            WebhookController,
            HealthController,
            RequestsController,
            WebhooksController,
            DeliveriesController,
            # Prometheus scrapes without a key; what it shows are counts, no tenant's data.
            Router(path="/", route_handlers=[metrics_route(container.telemetry.registry())], opt={OPEN: True}),
            # Output images stay shareable links: whoever has the URL may fetch them, key or not.
            Router(path="/", route_handlers=[FilesController], opt={OPEN: True}),
            console_router(auth=settings.auth, api_reference=api_reference(settings.api_docs)),
        ],
        middleware=[
            api_key_middleware(
                container.use_cases.authenticate, settings.rate_limit_per_minute, settings.auth_failures_per_minute
            )
        ],
        dependencies={
            **{name: _provide(getattr(container.use_cases, name)) for name in _USE_CASES},
            "links": _provide(container.core.links),
            "storage": _provide(container.imaging.storage),
            "status_cache": Provide(lambda: status_cache, sync_to_thread=False),
            "engine": _provide(container.persistence.engine),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        request_class=GuardedRequest,
        request_max_body_size=SMALL_BODY_LIMIT,
        openapi_config=OpenAPIConfig(
            title="imgopt",
            version=version("imgopt"),
            description="Upload a CSV of product photos; get them back smaller, with status, output CSV and webhooks. "
            "People can do the same in the [web console](/).",
            path=SCHEMA_PATH,
            tags=TAGS,
            render_plugins=render_plugins(settings.api_docs),
            openapi_router=schema_router(),
            **(security_scheme() if settings.auth_required else {}),
        ),
        on_shutdown=[shutdown],
        logging_config=None,  # the process that hosts the app configures logging, once
    )
    app.asgi_handler = SecurityHeaders(RequestMetrics(app.asgi_handler, container.telemetry.http()))
    return app
