"""Routes of the console: its page at `/`, its static files, and what the page needs to know of the server."""

from pathlib import Path

import msgspec
from litestar import MediaType, Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

HERE = Path(__file__).parent
STATIC = HERE / "static"
STATIC_PATH = "/console/static"
# Everything the page runs or styles comes from this server; pictures may come from any origin,
# since the "before" images are the shop's own URLs.
_POLICY = (
    "default-src 'self'; img-src 'self' http: https: data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class ConsoleConfig(msgspec.Struct, rename="camel"):
    """`auth`: "off" when the API takes no key (then the page asks for none), "required" otherwise;
    `api_reference`: where the page's "API reference" link goes, the docs page or, with none, the document."""

    auth: str
    api_reference: str


def console_router(auth: str = "off", api_reference: str = "/schema/openapi.json") -> Router:
    """The console's routes; none is listed in the OpenAPI document, which links to the page instead."""
    page = (HERE / "index.html").read_bytes()

    @get("/", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
    def index() -> Response[bytes]:
        return Response(
            page,
            media_type=MediaType.HTML,
            headers={
                "Content-Security-Policy": _POLICY,
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/console/config.json", include_in_schema=False, sync_to_thread=False)
    def config() -> Response[ConsoleConfig]:
        return Response(ConsoleConfig(auth=auth, api_reference=api_reference), headers={"Cache-Control": "no-store"})

    assets = create_static_files_router(
        path=STATIC_PATH,
        directories=[STATIC],
        include_in_schema=False,
        cache_control=CacheControlHeader(no_cache=True),
        name="console-static",
    )
    # The page and its files are public: the page asks for a key itself when the API needs one.
    return Router(path="/", route_handlers=[index, config, assets], opt={"exclude_from_auth": True})
