"""The API docs at `/schema` (IMGOPT_API_DOCS): Redoc or Swagger UI from assets in the package, or no page at all.

A page loads only what this service serves, under its own Content-Security-Policy; nothing comes from a CDN. The
OpenAPI document itself is always served, at `/schema/openapi.json` (and `/schema/openapi.yaml`).
"""

import gzip
from dataclasses import dataclass
from html import escape
from importlib.resources import files
from typing import Any

from litestar import MediaType, Request, Response, Router, get
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin
from litestar.params import FromPath

from imgopt.entrypoints.http.errors import ApiError

SCHEMA_PATH = "/schema"
ASSETS_PATH = "/assets"
# Scripts and styles from this service only, and no inline script. Inline styles, because both UIs set
# styles from script (Redoc through styled-components); data: images for Swagger UI's icons; a blob:
# worker for Redoc's search; connections to this service only (Swagger UI's "Try it out").
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# Each bundle's name carries its version: a cached file is never the wrong one, so browsers may keep it a day.
ASSET_CACHE = "public, max-age=86400"
# Litestar adds `; charset=utf-8` to text types itself.
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass(frozen=True)
class Page:
    """A docs UI: the path it also answers at, the assets it loads, and the element it starts in."""

    path: str
    styles: tuple[str, ...]
    scripts: tuple[str, ...]
    root: str  # HTML; `{spec}` is the URL of the OpenAPI document

    @property
    def assets(self) -> tuple[str, ...]:
        return (*self.styles, *self.scripts)


PAGES = {
    # Redoc starts by itself on a <redoc> element that names the document.
    "redoc": Page("/redoc", (), ("redoc.standalone-2.5.4.js",), '<redoc spec-url="{spec}"></redoc>'),
    "swagger": Page(
        "/swagger",
        ("swagger-ui-5.35.0.css",),
        ("swagger-ui-bundle-5.35.0.js", "swagger-init.js"),
        '<div id="swagger-ui" data-spec="{spec}"></div>',
    ),
}


def read_asset(name: str) -> bytes:
    """The asset's bytes, gzip-compressed: as stored (`.gz`), or compressed here (the project's own small files)."""
    folder = files(__package__) / "api_docs_assets"
    stored = folder / f"{name}.gz"
    return stored.read_bytes() if stored.is_file() else gzip.compress((folder / name).read_bytes(), mtime=0)


class DocsPage(OpenAPIRenderPlugin):
    """One UI at `/schema` and at its own path, its assets under `/schema/assets/`."""

    def __init__(self, page: Page) -> None:
        super().__init__(path=page.path)
        self.page = page
        self._assets = {name: read_asset(name) for name in page.assets}

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        asset = f"{SCHEMA_PATH}{ASSETS_PATH}/{{}}".format
        styles = "".join(f'<link rel="stylesheet" href="{asset(name)}">' for name in self.page.styles)
        scripts = "".join(f'<script src="{asset(name)}"></script>' for name in self.page.scripts)
        root = self.page.root.format(spec=escape(self.get_openapi_json_route(request)))
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{escape(openapi_schema["info"]["title"])} API</title>{styles}'
            f"</head><body>{root}{scripts}</body></html>"
        ).encode()

    def receive_router(self, router: Router) -> None:
        assets = self._assets

        @get(f"{ASSETS_PATH}/{{name:str}}", sync_to_thread=False, include_in_schema=False)
        def asset(name: FromPath[str], request: Request) -> Response[bytes]:
            compressed = assets.get(name)
            if compressed is None:
                raise ApiError(404, "not_found", f"no docs asset is named {name[:60]!r}")
            headers = {"Cache-Control": ASSET_CACHE, "Vary": "Accept-Encoding"}
            media_type = _MEDIA_TYPES[name[name.rindex(".") :]]
            if "gzip" in request.headers.get("accept-encoding", "").lower():
                return Response(compressed, media_type=media_type, headers={**headers, "Content-Encoding": "gzip"})
            return Response(gzip.decompress(compressed), media_type=media_type, headers=headers)

        router.register(asset)


class NoDocsPage(OpenAPIRenderPlugin):
    """`/schema` with IMGOPT_API_DOCS=off: a 404 that says where the document is."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        raise ApiError(
            404,
            "not_found",
            f"the API docs pages are off (IMGOPT_API_DOCS); the OpenAPI document is at {SCHEMA_PATH}/openapi.json",
        )


def render_plugins(api_docs: str) -> list[OpenAPIRenderPlugin]:
    """What `/schema` serves for IMGOPT_API_DOCS=`api_docs`; the first plugin also answers at `/schema` itself."""
    page = DocsPage(PAGES[api_docs]) if api_docs in PAGES else NoDocsPage()
    return [page, JsonRenderPlugin(), YamlRenderPlugin()]


def api_reference(api_docs: str) -> str:
    """Where to send people for the API's reference: the docs page, or the document when there is none."""
    return SCHEMA_PATH if api_docs in PAGES else f"{SCHEMA_PATH}/openapi.json"


def _page_policy(response: Response) -> Response:
    if str(response.media_type).startswith(MediaType.HTML):
        response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def schema_router() -> Router:
    """The router Litestar serves the document and the pages on; its pages get PAGE_POLICY."""
    return Router(SCHEMA_PATH, route_handlers=[], include_in_schema=False, after_request=_page_policy)
