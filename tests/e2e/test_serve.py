"""`imgopt serve`, as a user starts it (keys required, one made with `imgopt keys create`): the API and the
worker in one process, stopped by SIGTERM."""

import json
import os
import signal
import subprocess
import sys

import httpx
import standardwebhooks

from imgopt.entrypoints.http.server import free_port
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, wait_for


def test_serve_takes_an_upload_to_its_signed_webhook_and_stops_cleanly(database_url, clean_database, tmp_path):
    port = free_port()
    environment = {
        **os.environ,
        "IMGOPT_DATABASE_URL": database_url,
        "IMGOPT_DATA_DIR": str(tmp_path),
        "IMGOPT_ALLOW_PRIVATE_NETWORKS": "true",
    }
    created = subprocess.run(
        [sys.executable, "-m", "imgopt.entrypoints.cli", "keys", "create", "--tenant", "shop", "serve", "--json"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    key = {"Authorization": f"Bearer {json.loads(created.stdout)['key']}"}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "imgopt.entrypoints.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with LocalServer() as origin, LocalServer() as receiver:
            photo = origin.route("/shirt.jpg", Reply(corpus_bytes("flowers.jpeg")))
            receiver.route("/hook", Reply(b"", 204))
            wait_for(lambda: _ready(base), timeout=60, message="imgopt serve to be ready")

            upload = httpx.post(
                f"{base}/upload",
                files={"file": ("products.csv", csv_bytes(f"1,Shirt,{photo}"), "text/csv")},
                data={"webhookUrl": receiver.url("/hook"), "format": "webp", "maxWidth": "300"},
                headers=key,
            ).json()
            [delivery] = wait_for(lambda: receiver.requests, timeout=60, message="the webhook")

        event = standardwebhooks.Webhook(upload["webhook"]["secret"]).verify(delivery.body, delivery.headers)
        details = httpx.get(f"{base}/status/{upload['requestId']}", params={"details": "true"}, headers=key).json()
        [image] = details["details"]["products"][0]["images"]
        output = httpx.get(image["outputUrl"])
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
        log.close()

    assert event["data"]["status"] == "completed"
    assert output.headers["content-type"] == "image/webp" and output.content.startswith(b"RIFF")
    assert (image["mediaType"], image["width"]) == ("image/webp", 300)
    assert code == 0, (tmp_path / "serve.log").read_text()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/ready").status_code == 200
    except httpx.TransportError:
        return False
