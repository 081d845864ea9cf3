"""`imgopt.client.Client` against a running `imgopt serve`: typed answers, problems, waiting, webhooks."""

import uuid

import msgspec
import pytest

from imgopt.client import (
    ApiError,
    Client,
    ConnectionFailed,
    Image,
    InvalidSignature,
    Status,
    WaitTimeout,
    verify_webhook,
)
from tests.support import LocalServer, Reply, free_port, wait_for


@pytest.fixture
def client(live):
    with Client(live.url) as client:
        yield client


def test_an_upload_is_followed_to_its_end_with_typed_results_and_its_output_csv(client, live, tmp_path):
    csv_path = tmp_path / "products.csv"
    csv_path.write_bytes(live.csv(f"1,Shirt,{live.photo('photo.webp')}", f"2,Hat,{live.missing()}"))
    seen = []

    receipt = client.upload(csv_path, format="webp", max_width=200, quality=60)
    status = client.wait(receipt.request_id, timeout=120, poll=0.2, on_progress=seen.append)
    output = client.output_csv(receipt.request_id)
    saved = client.save_output_csv(receipt.request_id, tmp_path / "output.csv")
    detailed = client.status(receipt.request_id, details=True)

    assert (receipt.products, receipt.images, receipt.webhook) == (2, 2, None)
    assert isinstance(status, Status) and status.finished and status.status == "completed_with_errors"
    assert seen[-1] == status and all(isinstance(s, Status) for s in seen)
    assert (status.options.format, status.options.max_width, status.options.quality) == ("webp", 200, 60)
    assert status.saving == pytest.approx(1 - status.bytes_out / status.bytes_in) and status.saving > 0
    assert output == live.api(f"/status/{receipt.request_id}/output.csv").content
    assert saved.read_bytes() == output and not list(tmp_path.glob("*.partial"))
    [shirt], [hat] = (product.images for product in detailed.details.products)
    assert isinstance(shirt, Image) and (shirt.status, shirt.media_type, shirt.width) == (
        "optimized",
        "image/webp",
        200,
    )
    assert hat.status == "failed" and "404" in hat.failure_reason
    assert msgspec.to_builtins(detailed)["details"]["products"][1]["images"][0]["failureReason"] == hat.failure_reason


def test_a_csv_is_accepted_as_bytes_or_as_an_open_file(client, live, tmp_path):
    data = live.csv(f"1,Shirt,{live.photo('small-320x240.jpg')}")
    (tmp_path / "p.csv").write_bytes(data)

    from_bytes = client.upload(data)
    with (tmp_path / "p.csv").open("rb") as file:
        from_file = client.upload(file)

    assert from_bytes.request_id != from_file.request_id
    assert client.status(from_file.request_id).images.total == 1


def test_a_refused_csv_raises_the_servers_problem_with_every_line(client, live):
    with pytest.raises(ApiError) as refused:
        client.upload(live.csv("1,Shirt,ftp://a.example/1.jpg", "x,,https://a.example/2.jpg"))

    error = refused.value
    assert (error.status, error.code) == (422, "invalid_csv")
    assert [(e.line, e.column) for e in error.errors] == [(2, "Input Image Urls"), (3, "S. No."), (3, "Product Name")]
    assert error.problem.error_count == 3 and "line 2" in error.detail and "422 invalid_csv" in str(error)


def test_unknown_ids_bad_options_and_unfinished_requests_raise_their_problems(client, live, gated_origin):
    held = client.upload(live.csv(f"1,Held,{gated_origin.url()}"))

    with pytest.raises(ApiError) as unknown:
        client.status(uuid.uuid4())
    with pytest.raises(ApiError) as not_an_id:
        client.status("not an id?details=true")
    with pytest.raises(ApiError) as bad_option:
        client.upload(live.csv(f"1,Shirt,{live.photo('photo.webp')}"), quality=500)
    with pytest.raises(ApiError) as unfinished:
        client.output_csv(held.request_id)
    with pytest.raises(WaitTimeout) as waited:
        client.wait(held.request_id, timeout=0)
    gated_origin.open()

    assert (unknown.value.status, unknown.value.code) == (404, "request_not_found")
    assert (not_an_id.value.status, not_an_id.value.code) == (400, "invalid_id")
    assert "'not an id?details=true'" in not_an_id.value.detail
    assert (bad_option.value.status, bad_option.value.code) == (422, "invalid_options")
    assert (unfinished.value.status, unfinished.value.code) == (409, "request_not_finished")
    assert waited.value.status.request_id == held.request_id and not waited.value.status.finished
    assert client.wait(held.request_id, timeout=120, poll=0.2).status == "completed"


def test_an_api_that_cannot_be_reached_is_a_connection_failure_naming_it():
    address = f"http://127.0.0.1:{free_port()}"

    with Client(address) as client, pytest.raises(ConnectionFailed) as failed:
        client.status(uuid.uuid4())

    assert address in str(failed.value)


def test_a_registered_webhook_arrives_signed_and_verifies_with_its_secret(client, live):
    receipt = client.upload(
        live.csv(f"1,Shirt,{live.photo('small-320x240.jpg')}"), webhook_url=live.receiver.url("/hook")
    )
    client.wait(receipt.request_id, timeout=120, poll=0.2)
    live.receiver.route("/late", Reply(b"", 204))
    late = client.register_webhook(live.receiver.url("/late"), receipt.request_id)

    def delivery(path: str):
        return next((r for r in live.receiver.requests if r.path == path and receipt_of(r) == receipt.request_id), None)

    on_upload = wait_for(lambda: delivery("/hook"), timeout=60, message="the upload's webhook")
    on_register = wait_for(lambda: delivery("/late"), timeout=60, message="the late webhook")
    event = verify_webhook(on_upload.headers, on_upload.body, receipt.webhook.secret)
    late_event = verify_webhook(on_register.headers, on_register.body, late.secret)

    assert (event.type, event.data.request_id, event.data.status) == (
        "request.completed",
        receipt.request_id,
        "completed",
    )
    assert late_event.data == event.data and late.request_id == receipt.request_id
    with pytest.raises(InvalidSignature):
        verify_webhook(on_upload.headers, on_upload.body.replace(b"completed", b"failed"), receipt.webhook.secret)
    with pytest.raises(InvalidSignature):
        verify_webhook(on_upload.headers, on_upload.body, late.secret)


def receipt_of(recorded) -> uuid.UUID | None:
    try:
        return uuid.UUID(msgspec.json.decode(recorded.body)["data"]["requestId"])
    except (msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None


def test_detail_pages_are_followed_by_their_cursor_until_none_is_left(live):
    # The paginated details contract (details.nextCursor) ahead of the server: a loopback server plays
    # the API's two pages, and the real API of today (one page, no cursor) is the case above.
    document = live.api(f"/status/{_finished_upload(live)}", details="true").json()
    request_id = document["requestId"]
    first, second = document["details"]["products"][:1], document["details"]["products"][1:]
    pages = [
        {**document, "details": {**document["details"], "products": first, "nextCursor": "page-2"}},
        {**document, "details": {**document["details"], "products": second, "nextCursor": None}},
    ]
    with LocalServer() as api:
        api.route(f"/status/{request_id}?details=true&limit=1", Reply(msgspec.json.encode(pages[0])))
        api.route(f"/status/{request_id}?details=true&limit=1&cursor=page-2", Reply(msgspec.json.encode(pages[1])))

        with Client(api.url("")) as client:
            status = client.status(request_id, details=True, page_size=1)

    assert [p.line for p in status.details.products] == [2, 3]
    assert status.details.next_cursor is None
    assert [r.path.split("?")[1] for r in api.requests] == [
        "details=true&limit=1",
        "details=true&limit=1&cursor=page-2",
    ]


def test_with_a_key_every_call_carries_it_as_a_bearer_token():
    with LocalServer() as api:
        api.route(f"/status/{uuid.UUID(int=1)}", Reply(b'{"status": 401, "code": "unauthorized"}', 401))

        with Client(api.url(""), key="imgopt_k1") as client, pytest.raises(ApiError) as refused:
            client.status(uuid.UUID(int=1))

    assert api.requests[0].headers["authorization"] == "Bearer imgopt_k1"
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")


def _finished_upload(live) -> str:
    with Client(live.url) as client:
        receipt = client.upload(
            live.csv(f"1,Shirt,{live.photo('small-320x240.jpg')}", f"2,Hat,{live.photo('photo.webp')}")
        )
        client.wait(receipt.request_id, timeout=120, poll=0.2)
    return str(receipt.request_id)
