"""The API and the worker together: uploads are processed, webhooks arrive signed, retries happen."""

import csv
import io
from datetime import UTC, datetime

import httpx
import standardwebhooks

from tests.support import LocalServer, Reply, csv_bytes, wait_for


def deliveries(receiver: LocalServer, path: str = "/hook") -> list:
    return [request for request in receiver.requests if request.path == path]


def verify(secret: str, request) -> dict:
    return standardwebhooks.Webhook(secret).verify(request.body, request.headers)


def test_an_upload_is_optimized_end_to_end_and_its_signed_webhook_arrives(service):
    o = service.origin
    rows = [
        f'1,Shirt,"{o.url("/small-320x240.jpg")}, {o.url("/flowers.jpeg")}"',
        f"2,Hat,{o.url('/photo.webp')}",
        f'3,Scarf,"{o.url("/grey16-alpha.png")}, {o.url("/missing.jpg")}, {o.url("/page.jpg")}"',
        f"4,Coat,{o.url('/exif-orientation-6.jpg')}",
    ]

    receipt = service.upload(csv_bytes(*rows), webhookUrl=service.receiver.url("/hook"))
    status = service.finished(receipt["requestId"])
    [delivery] = wait_for(lambda: deliveries(service.receiver), message="the webhook")

    assert status["status"] == "completed_with_errors"
    assert status["images"] == {"total": 7, "pending": 0, "processing": 0, "optimized": 5, "failed": 2, "cancelled": 0}
    assert status["products"] == {"total": 4, "finished": 4, "withErrors": 1}
    assert 0 < status["bytesOut"] < status["bytesIn"]
    event = verify(receipt["webhook"]["secret"], delivery)
    assert event["type"] == "request.completed"
    assert event["data"] == status
    details = service.status(receipt["requestId"], details=True)["details"]
    scarf = details["products"][2]
    assert [image["status"] for image in scarf["images"]] == ["optimized", "failed", "failed"]
    assert "HTTP 404" in scarf["images"][1]["failureReason"]
    assert "an HTML page" in scarf["images"][2]["failureReason"]
    [attempt] = details["webhookDeliveries"][0]["log"]
    assert attempt["statusCode"] == 204


def test_the_outputs_are_served_smaller_and_listed_in_the_output_csv_in_input_order(service):
    o = service.origin
    receipt = service.upload(
        csv_bytes(f'9,Shirt,"{o.url("/small-320x240.jpg")}, {o.url("/missing.jpg")}, {o.url("/flowers.jpeg")}"')
    )
    service.finished(receipt["requestId"])

    response = httpx.get(f"{service.url}/status/{receipt['requestId']}/output.csv")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    header, row = list(csv.reader(io.StringIO(response.text)))
    assert header == ["S. No.", "Product Name", "Input Image Urls", "Output Image Urls"]
    inputs, outputs = row[2].split(", "), row[3].split(", ")
    assert (row[0], row[1], inputs) == (
        "9",
        "Shirt",
        [o.url("/small-320x240.jpg"), o.url("/missing.jpg"), o.url("/flowers.jpeg")],
    )
    assert outputs[1] == "" and len(outputs) == 3
    for source, output in ((inputs[0], outputs[0]), (inputs[2], outputs[2])):
        image = httpx.get(output)
        original = httpx.get(source)
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        assert len(image.content) <= len(original.content)


def test_a_failing_receiver_is_retried_with_the_same_message_id_until_it_answers(service):
    service.receiver.route("/hook", Reply(b"down", 500), Reply(b"", 503), Reply(b"ok", 200))
    receipt = service.upload(
        csv_bytes(f"1,Shirt,{service.origin.url('/small-320x240.jpg')}"), webhookUrl=service.receiver.url("/hook")
    )

    attempts = wait_for(lambda: len(deliveries(service.receiver)) >= 3 and deliveries(service.receiver), timeout=30)

    assert len({request.headers["webhook-id"] for request in attempts}) == 1
    for request in attempts:
        verify(receipt["webhook"]["secret"], request)
    log = wait_for(
        lambda: (
            (d := service.status(receipt["requestId"], details=True)["details"]["webhookDeliveries"][0])["status"]
            == "delivered"
            and d["log"]
        ),
        message="the delivery to be recorded",
    )
    assert [attempt["statusCode"] for attempt in log] == [500, 503, 200]


def test_a_webhook_registered_after_the_request_finished_is_delivered_at_once(service):
    receipt = service.upload(csv_bytes(f"1,Hat,{service.origin.url('/flowers.jpeg')}"))
    service.finished(receipt["requestId"])

    registered = httpx.post(
        f"{service.url}/webhook/register",
        json={"requestId": receipt["requestId"], "webhookUrl": service.receiver.url("/late")},
    ).json()
    [delivery] = wait_for(lambda: deliveries(service.receiver, "/late"), message="the late webhook")

    assert verify(registered["secret"], delivery)["data"]["requestId"] == receipt["requestId"]


def test_a_global_webhook_hears_every_request_and_the_original_multipart_format_works(service):
    registered = httpx.post(
        f"{service.url}/webhook/register", json={"webhookUrl": service.receiver.url("/all"), "format": "multipart-csv"}
    ).json()

    first = service.upload(csv_bytes(f"1,Hat,{service.origin.url('/flowers.jpeg')}"))
    second = service.upload(csv_bytes(f"1,Coat,{service.origin.url('/photo.webp')}"))
    received = wait_for(lambda: len(deliveries(service.receiver, "/all")) == 2 and deliveries(service.receiver, "/all"))

    for request in received:
        assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
        sent_at = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
        expected = standardwebhooks.Webhook(registered["secret"]).sign(
            request.headers["webhook-id"], sent_at, request.body.decode()
        )
        assert request.headers["webhook-signature"] == expected
        assert b"S. No.,Product Name,Input Image Urls,Output Image Urls" in request.body
    bodies = b"".join(request.body for request in received)
    assert first["requestId"].encode() in bodies and second["requestId"].encode() in bodies


def test_quality_auto_is_kept_and_each_image_reports_the_quality_chosen_and_the_score_reached(service):
    receipt = service.upload(
        csv_bytes(f'1,Hat,"{service.origin.url("/flowers.jpeg")},{service.origin.url("/small-320x240.jpg")}"'),
        quality="auto",
    )

    finished = service.finished(receipt["requestId"])
    [product] = service.status(receipt["requestId"], details=True)["details"]["products"]

    assert (finished["status"], finished["options"]["quality"]) == ("completed", "auto")
    for image in product["images"]:
        assert 1 <= image["quality"] <= 100
        assert image["score"] >= 70  # IMGOPT_AUTO_QUALITY_TARGET's default


def test_a_fixed_quality_reports_no_chosen_quality_or_score(service):
    receipt = service.upload(csv_bytes(f"1,Hat,{service.origin.url('/small-320x240.jpg')}"), quality="60")

    finished = service.finished(receipt["requestId"])
    [product] = service.status(receipt["requestId"], details=True)["details"]["products"]

    assert finished["options"]["quality"] == 60
    assert (product["images"][0]["quality"], product["images"][0]["score"]) == (None, None)


def test_names_a_spreadsheet_would_run_as_formulas_are_neutralised_in_output_csv_and_the_multipart_webhook(service):
    httpx.post(
        f"{service.url}/webhook/register", json={"webhookUrl": service.receiver.url("/all"), "format": "multipart-csv"}
    )
    image = service.origin.url("/flowers.jpeg")
    receipt = service.upload(csv_bytes(f"1,=1+1,{image}", f'2," =SUM(A1)",{image}', f"3,@cmd,{image}", f"4,-2,{image}"))
    service.finished(receipt["requestId"])
    [delivery] = wait_for(lambda: deliveries(service.receiver, "/all"), message="the multipart webhook")

    response = httpx.get(f"{service.url}/status/{receipt['requestId']}/output.csv")

    names = [row[1] for row in list(csv.reader(io.StringIO(response.text)))[1:]]
    assert names == ["'=1+1", "'=SUM(A1)", "'@cmd", "'-2"]
    assert response.content in delivery.body
