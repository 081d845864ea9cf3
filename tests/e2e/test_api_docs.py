"""IMGOPT_API_DOCS: no docs page by default; Redoc or Swagger UI from this service's own assets, under a strict policy.

The OpenAPI document is served whatever the setting.
"""

import contextlib
import dataclasses
from html.parser import HTMLParser

import httpx
import pytest

from imgopt.bootstrap.containers import create_container
from imgopt.entrypoints.http.api_docs import PAGE_POLICY
from imgopt.entrypoints.http.app import create_app
from imgopt.entrypoints.http.server import BackgroundServer
from tests.e2e.test_http_api import assert_problem


@contextlib.contextmanager
def docs_api(settings, engine, api_docs: str):
    chosen = dataclasses.replace(settings, api_docs=api_docs)
    container = create_container(chosen)
    container.persistence.engine.override(engine)
    try:
        with BackgroundServer(create_app(container, chosen)) as server:
            yield server.url
    finally:
        container.persistence.engine.reset_override()


class Loads(HTMLParser):
    """What a page loads: each script's src (None for an inline one), each stylesheet's href."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.styles: list[str] = []
        self.inline_code = ""
        self._in_script = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts.append(attributes.get("src"))
            self._in_script = True
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.styles.append(attributes["href"])

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_code += data


def same_origin(url: str | None) -> bool:
    return url is not None and url.startswith("/") and not url.startswith("//")


def test_by_default_there_is_no_docs_page_but_the_document_is_served(settings, clean_database):
    with docs_api(settings, clean_database, "off") as base:
        page = httpx.get(f"{base}/schema")
        named_pages = [httpx.get(f"{base}/schema/{name}") for name in ("redoc", "swagger")]
        document = httpx.get(f"{base}/schema/openapi.json")
        asset = httpx.get(f"{base}/schema/assets/swagger-init.js")
        console = httpx.get(f"{base}/console/config.json").json()

    assert "/schema/openapi.json" in assert_problem(page, 404, "not_found")["detail"]
    assert [response.status_code for response in named_pages] == [404, 404]
    assert all(response.headers["content-security-policy"].startswith("default-src 'none'") for response in named_pages)
    assert document.status_code == 200 and document.json()["info"]["title"] == "imgopt"
    assert asset.status_code == 404
    assert console["apiReference"] == "/schema/openapi.json"  # the console's "API reference" link


@pytest.mark.parametrize(
    ("api_docs", "other"),
    [("redoc", "swagger"), ("swagger", "redoc")],
)
def test_a_docs_page_loads_only_this_services_own_assets_under_a_strict_policy(
    settings, clean_database, api_docs, other
):
    with docs_api(settings, clean_database, api_docs) as base:
        page, named, not_chosen = (httpx.get(f"{base}/schema{path}") for path in ("", f"/{api_docs}", f"/{other}"))
        loads = Loads(page.text)
        assets = {url: httpx.get(base + url) for url in loads.scripts + loads.styles if same_origin(url)}
        uncompressed = {url: httpx.get(base + url, headers={"Accept-Encoding": "identity"}) for url in assets}
        document = httpx.get(f"{base}/schema/openapi.json")
        console = httpx.get(f"{base}/console/config.json").json()

    assert page.status_code == named.status_code == 200 and page.text == named.text
    assert not_chosen.status_code == 404
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src 'self';" in PAGE_POLICY and "http" not in PAGE_POLICY and "unsafe-eval" not in PAGE_POLICY
    assert loads.scripts and all(same_origin(url) for url in loads.scripts + loads.styles), loads.scripts
    assert loads.inline_code.strip() == ""
    assert 'spec-url="/schema/openapi.json"' in page.text or 'data-spec="/schema/openapi.json"' in page.text
    for url, response in assets.items():
        assert response.status_code == 200, url
        assert response.headers["content-encoding"] == "gzip" and response.headers["vary"] == "Accept-Encoding"
        assert response.headers["content-type"].startswith(("text/javascript", "text/css"))
        plain = uncompressed[url]
        assert "content-encoding" not in plain.headers and plain.content == response.content
    assert document.status_code == 200 and console["apiReference"] == "/schema"


def test_a_docs_asset_is_the_packages_own_file_and_nothing_else_is_served(settings, clean_database):
    with docs_api(settings, clean_database, "redoc") as base:
        bundle = httpx.get(f"{base}/schema/assets/redoc.standalone-2.5.4.js")
        others = [
            httpx.get(f"{base}/schema/assets/{name}")
            for name in (
                "swagger-ui-bundle-5.35.0.js",
                "SOURCES.md",
                "..%2F..%2Fapp.py",
                "redoc.standalone-2.5.4.js.gz",
            )
        ]

    assert bundle.status_code == 200 and bundle.content.startswith(b"/*! For license information")
    assert bundle.headers["cache-control"] == "public, max-age=86400"
    assert [response.status_code for response in others] == [404] * 4
