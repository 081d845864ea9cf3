"""The vendored docs assets are the npm packages' files, as SOURCES.md records them, with their licenses beside."""

import gzip
import hashlib
import re
from pathlib import Path

import pytest

from imgopt.entrypoints.http.api_docs import PAGES, read_asset

ASSETS = Path(__file__).parents[2] / "imgopt" / "entrypoints" / "http" / "api_docs_assets"
RECORDED = dict(re.findall(r"\| `([^`]+)\.gz` \|.*\| `([0-9a-f]{64})` \|", (ASSETS / "SOURCES.md").read_text()))


def test_every_bundle_is_the_file_its_sources_record():
    stored = sorted(path.name.removesuffix(".gz") for path in ASSETS.glob("*.gz"))

    sums = {name: hashlib.sha256(gzip.decompress((ASSETS / f"{name}.gz").read_bytes())).hexdigest() for name in stored}

    assert sums == RECORDED


@pytest.mark.parametrize("name", sorted({asset for page in PAGES.values() for asset in page.assets}))
def test_every_asset_a_page_names_is_in_the_package(name):
    assert gzip.decompress(read_asset(name))


def test_the_licenses_ship_beside_the_bundles():
    names = {path.name for path in ASSETS.iterdir()}

    assert {"LICENSE.redoc", "LICENSE.swagger-ui", "NOTICE.swagger-ui"} <= names
    assert "MIT License" in (ASSETS / "LICENSE.redoc").read_text()
    assert "Apache License" in (ASSETS / "LICENSE.swagger-ui").read_text()
