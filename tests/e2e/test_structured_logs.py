"""IMGOPT_LOG_FORMAT=json: a real `imgopt serve` writes one JSON object a line, uvicorn's lines included."""

import json
import os
import signal
import subprocess
import sys

import httpx

from imgopt.entrypoints.http.server import free_port
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, wait_for


def test_serve_with_json_logs_writes_only_json_lines_with_time_level_logger_message_and_ids(
    database_url, clean_database, tmp_path
):
    port = free_port()
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(tmp_path),
        "IMGOPT_ALLOW_PRIVATE_NETWORKS": "true",
        "IMGOPT_LOG_FORMAT": "json",
        "IMGOPT_AUTH": "off",
    }
    log_path = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log, LocalServer() as origin:
        server = subprocess.Popen(
            [sys.executable, "-m", "imgopt.entrypoints.cli", "serve", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            photo = origin.route("/shirt.jpg", Reply(corpus_bytes("small-320x240.jpg")))
            wait_for(lambda: _ready(base), timeout=60, message="imgopt serve to be ready")
            request_id = httpx.post(
                f"{base}/upload", files={"file": ("p.csv", csv_bytes(f"1,Shirt,{photo}"), "text/csv")}
            ).json()["requestId"]
            wait_for(lambda: _finished(base, request_id), timeout=60, message="the upload to finish")
            httpx.get(f"{base}/status/not-a-uuid")
            httpx.get(f"{base}/status/{request_id}?api_key=imgopt_leaked_secret")
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()

    assert "imgopt_leaked_secret" not in log_path.read_text()
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records), lines
    assert any(
        r["logger"] == "imgopt.entrypoints.http.controllers" and r.get("request_id") == request_id for r in records
    )
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert {(r["method"], r["path"], r["status"]) for r in access} >= {
        ("POST", "/upload", 202),
        ("GET", "/status/not-a-uuid", 400),
    }
    assert any(r["logger"] == "uvicorn.error" for r in records)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/ready").status_code == 200
    except httpx.TransportError:
        return False


def _finished(base: str, request_id: str) -> bool:
    return httpx.get(f"{base}/status/{request_id}").json()["status"] == "completed"
