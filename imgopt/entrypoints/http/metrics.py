"""`GET /metrics`, and the middleware that counts and times every answer by route template, never by URL."""

import time

from litestar import Request, Response, get
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry

from imgopt.adapters.metrics.http import HttpMetrics
from imgopt.adapters.metrics.registry import exposition

# What a request that matched no route is counted under: its URL is the caller's to choose.
UNMATCHED = "<unmatched>"
# So is its method: any other token is counted as OTHER, or a client could mint label values at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "OTHER"


def metrics_route(registry: CollectorRegistry):
    @get("/metrics", sync_to_thread=True, include_in_schema=False)
    def metrics(request: Request) -> Response[bytes]:
        body, content_type = exposition(registry, request.headers.get("accept"))
        # As the header, not the media type: Litestar appends its own `charset` to a text/* media type,
        # and the exposition's content type already carries one.
        return Response(body, headers={"content-type": content_type})

    return metrics


class RequestMetrics:
    """Wraps the app's ASGI handler where Litestar puts its own instrumentation, outside routing, so
    404s and 405s are counted too. The route is the template that matched (`/status/{request_id:str}`)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before it starts a response

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            route = scope.get("path_template") or UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else OTHER
            self._metrics.answered(route, method, status, time.perf_counter() - started)
