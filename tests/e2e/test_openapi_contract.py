"""The API keeps its OpenAPI contract: schemathesis fuzzes every operation and finds no 5xx, no undocumented answer."""

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from imgopt.bootstrap.settings import FILES_PATH
from imgopt.entrypoints.worker.process import build_worker
from tests.support import LocalServer, Reply, csv_bytes, wait_for

# Every check schemathesis has (--checks all), with one allowance. positive_data_acceptance expects a schema-valid
# request to be accepted; for POST /upload the body's file is a CSV whose header, rows and URLs no JSON Schema can
# describe, so schemathesis sends random bytes as the file (a PNG, say), and the API rightly answers 422
# invalid_csv. For that operation alone a 422 also counts as accepted: a 400, or any other refusal of a
# well-formed form, still fails, and every other check runs on /upload unchanged.
SCHEMATHESIS_CONFIG = """
[[operations]]
include-path = "/upload"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""
# Enough examples to reach every branch the schema describes, few enough to finish in well under a minute.
EXAMPLES_PER_OPERATION = 100


def upload(base: str, data: bytes, **fields: str) -> str:
    response = httpx.post(f"{base}/upload", files={"file": ("p.csv", data, "text/csv")}, data=fields, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["requestId"]


@pytest.fixture
def api_settings(api_settings):
    """No rate limit: past 600 calls a minute the fuzzer would meet only 429s and test nothing behind them."""
    return dataclasses.replace(api_settings, rate_limit_per_minute=0)


@pytest.fixture
def known_uploads(api, api_settings, corpus) -> tuple[str, dict[str, list[str]]]:
    """The API, with one upload finished (an image optimized, one failed, a webhook delivered) and one pending;
    the ids of both, the key of the optimized image under /files, the webhook's and its delivery's ids."""
    base, container = api
    worker = build_worker(container, api_settings)
    with LocalServer() as origin, LocalServer() as receiver:
        photo = origin.route("/photo.jpg", Reply((corpus / "small-320x240.jpg").read_bytes()))
        page = origin.route("/page.jpg", Reply(b"<!doctype html><p>not an image</p>"))
        hook = receiver.route("/hook", Reply(b"", 204))
        worker.start()
        try:
            finished = upload(base, csv_bytes(f'1,Shirt,"{photo},{page}"'), webhookUrl=hook)
            wait_for(lambda: _delivered(base, finished), timeout=60, message="the upload to finish and be announced")
        finally:
            worker.stop()
    pending = upload(base, csv_bytes("1,Hat,https://a.example/hat.jpg"))
    details = httpx.get(f"{base}/status/{finished}", params={"details": "true"}).json()["details"]
    [product], [delivery] = details["products"], details["webhookDeliveries"]
    output = urlsplit(product["images"][0]["outputUrl"]).path.removeprefix(f"{FILES_PATH}/")
    return base, {
        "request_id": [finished, pending],
        "key": [output],
        "delivery_id": [delivery["id"]],
        "webhook_id": [delivery["webhookId"]],
    }


def _delivered(base: str, request_id: str) -> bool:
    details = httpx.get(f"{base}/status/{request_id}", params={"details": "true"}).json()["details"]
    return any(delivery["log"] for delivery in details["webhookDeliveries"])


def with_known_ids(document: dict, known: dict[str, list[str]]) -> dict:
    """The API's own document, with real ids and keys as examples, so the fuzzer reaches past 404."""
    for operation in (op for path in document["paths"].values() for op in path.values()):
        for parameter in operation.get("parameters", []):
            if parameter["name"] in known:
                parameter["schema"]["examples"] = known[parameter["name"]]
    return document


def test_every_operation_keeps_its_documented_contract_under_fuzzing(known_uploads, tmp_path: Path):
    base, known = known_uploads
    document = httpx.get(f"{base}/schema/openapi.json").json()
    schema_file = tmp_path / "openapi.json"
    schema_file.write_text(json.dumps(with_known_ids(document, known)))
    (tmp_path / "schemathesis.toml").write_text(SCHEMATHESIS_CONFIG)

    run = subprocess.run(
        [
            *(sys.executable, "-m", "schemathesis.cli", "--config-file", "schemathesis.toml"),
            *("run", str(schema_file), "--url", base, "--checks", "all", "--max-examples", str(EXAMPLES_PER_OPERATION)),
            *("--workers", "1", "--generation-database", "none", "--no-color", "--request-timeout", "30"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    assert re.search(r"Operations:\s+(\d+) selected / \1 total", run.stdout), run.stdout
