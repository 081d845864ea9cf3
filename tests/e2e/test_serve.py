"""`imgopt serve`, as a user starts it (keys required, one made with `imgopt keys create`): the API and the
worker in one process, stopped by SIGTERM."""

import json

import httpx
import standardwebhooks
from sqlalchemy import text

from tests.processes import ServeProcess
from tests.support import LocalServer, Reply, corpus_bytes, csv_bytes, wait_for


def test_serve_takes_an_upload_to_its_signed_webhook_stops_cleanly_and_logs_each_step_with_its_ids(
    database_url, clean_database, tmp_path
):
    with (
        LocalServer() as origin,
        LocalServer() as receiver,
        ServeProcess(database_url, tmp_path / "data", IMGOPT_LOG_FORMAT="json", IMGOPT_AUTH="required") as serve,
    ):
        key = serve.key("shop")
        photo = origin.route("/shirt.jpg", Reply(corpus_bytes("flowers.jpeg")))
        receiver.route("/hook", Reply(b"", 204))

        upload = httpx.post(
            f"{serve.url}/upload",
            files={"file": ("products.csv", csv_bytes(f"1,Shirt,{photo}"), "text/csv")},
            data={"webhookUrl": receiver.url("/hook"), "format": "webp", "maxWidth": "300"},
            headers=key,
        ).json()
        [delivery] = wait_for(lambda: receiver.requests, timeout=60, message="the webhook")
        event = standardwebhooks.Webhook(upload["webhook"]["secret"]).verify(delivery.body, delivery.headers)
        details = httpx.get(f"{serve.url}/status/{upload['requestId']}", params={"details": "true"}, headers=key).json()
        [image] = details["details"]["products"][0]["images"]
        output = httpx.get(image["outputUrl"])
        code = serve.terminate()

    assert event["data"]["status"] == "completed"
    assert output.headers["content-type"] == "image/webp" and output.content.startswith(b"RIFF")
    assert (image["mediaType"], image["width"]) == ("image/webp", 300)
    assert code == 0, serve.log
    lines = [json.loads(line) for line in serve.log.splitlines() if line.startswith("{")]
    about = {line["message"].split(":")[0]: line for line in lines if "request_id" in line or "worker_id" in line}
    request_id, worker_id = upload["requestId"], about["worker started"]["worker_id"]
    assert about["upload accepted"]["request_id"] == request_id
    finished = about["request completed"]
    assert (finished["request_id"], finished["worker_id"]) == (request_id, worker_id)
    assert about["webhook attempt 1"]["request_id"] == request_id
    assert about["webhook attempt 1"]["delivery_id"] == delivery.headers["webhook-id"]
    assert about["worker stopped"]["worker_id"] == worker_id


def test_sigterm_lets_running_images_finish_releases_the_rest_and_logs_no_error(database_url, clean_database, tmp_path):
    settings = {"IMGOPT_WORKER_CONCURRENCY": "2", "IMGOPT_WORKER_STOP_GRACE_SECONDS": "3"}
    with LocalServer() as origin, ServeProcess(database_url, tmp_path / "data", **settings) as serve:
        photo = corpus_bytes("small-320x240.jpg")
        quick = [origin.route(f"/quick{n}.jpg", Reply(photo, delay=1)) for n in range(2)]
        stuck = [origin.route(f"/stuck{n}.jpg", Reply(photo, delay=60)) for n in range(2)]
        rows = [f"{n},P{n},{url}" for n, url in enumerate(quick + stuck, start=1)]
        httpx.post(f"{serve.url}/upload", files={"file": ("p.csv", csv_bytes(*rows), "text/csv")}).raise_for_status()
        wait_for(lambda: len(origin.requests) == 4, timeout=60, message="all four images to be downloading")

        code = serve.terminate()

    with clean_database.connect() as connection:
        rows = connection.execute(text("SELECT input_url, status || '/' || attempts FROM images.optimizerjobs"))
        images = {url: state for url, state in rows}
    assert code == 0, serve.log
    assert images == {**dict.fromkeys(quick, "optimized/1"), **dict.fromkeys(stuck, "pending/0")}
    for trouble in ("ERROR", "Traceback", "shutdown failed", "Bad file descriptor"):
        assert trouble not in serve.log
