import uuid

import httpx
import pytest
from sqlalchemy import text

from tests.support import HEADER, csv_bytes

PROBLEM_FIELDS = {"status", "code", "title", "detail"}


def upload(base: str, data: bytes, **fields: str) -> httpx.Response:
    return httpx.post(f"{base}/upload", files={"file": ("products.csv", data, "text/csv")}, data=fields, timeout=30)


def assert_problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS and body["status"] == status and body["code"] == code, body
    return body


def stored_rows(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM images.productimages")).scalar()


def test_an_upload_in_the_originals_format_is_accepted_and_its_status_reads_back(api):
    base, _ = api

    response = upload(
        base, csv_bytes('1,Shirt,"https://a.example/1.jpg, https://a.example/2.jpg"', "2,Hat,https://a.example/3.jpg")
    )

    assert response.status_code == 202, response.text
    body = response.json()
    request_id = uuid.UUID(body["requestId"])
    assert (body["products"], body["images"], body["status"]) == (2, 3, "pending")
    assert body["statusUrl"] == f"{base}/status/{request_id}"
    status = httpx.get(body["statusUrl"]).json()
    assert status["requestId"] == str(request_id)
    assert status["status"] == "pending"
    assert status["images"] == {"total": 3, "pending": 3, "processing": 0, "optimized": 0, "failed": 0, "cancelled": 0}
    assert status["products"] == {"total": 2, "finished": 0, "withErrors": 0}
    assert status["options"] == {"quality": 50, "maxWidth": None, "maxHeight": None, "format": "original"}
    assert status["outputCsvUrl"] is None and status["createdAt"].endswith("Z")


def test_details_list_every_product_and_image(api):
    base, _ = api
    request_id = upload(base, csv_bytes('7,Shirt,"https://a.example/1.jpg,https://a.example/2.jpg"')).json()[
        "requestId"
    ]

    details = httpx.get(f"{base}/status/{request_id}", params={"details": "true"}).json()["details"]

    [product] = details["products"]
    assert (product["line"], product["serial"], product["name"], product["status"]) == (2, 7, "Shirt", "pending")
    assert [(i["position"], i["inputUrl"], i["status"]) for i in product["images"]] == [
        (0, "https://a.example/1.jpg", "pending"),
        (1, "https://a.example/2.jpg", "pending"),
    ]
    assert details["webhookDeliveries"] == []


def test_upload_options_are_kept(api):
    base, _ = api

    request_id = upload(
        base, csv_bytes("1,A,https://a.example/1.jpg"), quality="80", maxWidth="640", format="webp"
    ).json()["requestId"]

    assert httpx.get(f"{base}/status/{request_id}").json()["options"] == {
        "quality": 80,
        "maxWidth": 640,
        "maxHeight": None,
        "format": "webp",
    }


def test_an_upload_can_register_its_webhook(api):
    base, _ = api

    body = upload(base, csv_bytes("1,A,https://a.example/1.jpg"), webhookUrl="http://127.0.0.1:9/hook").json()

    assert body["webhook"]["webhookUrl"] == "http://127.0.0.1:9/hook"
    assert body["webhook"]["secret"].startswith("whsec_")


@pytest.mark.parametrize(
    ("data", "line", "fragment"),
    [
        (b"", 1, "the file is empty"),
        (HEADER.encode(), 2, "no product rows"),
        (b"S. No.,Name,Urls\n1,A,https://a.example/1.jpg\n", 1, "wrong header"),
        (b"S. No.,Product Name\n1,A\n", 1, "missing 'Input Image Urls'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 1, "not CSV text"),
        (b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, 1, "not CSV text"),
        (csv_bytes("1,A,https://a.example/1.jpg", '2,"B,https://a.example/2.jpg'), 3, "never closed"),
        (csv_bytes('1,"' + "x" * 150_000 + '",https://a.example/1.jpg'), 2, "too large"),
        (csv_bytes("1,A,https://a.example/1.jpg", "2,B,ftp://a.example/2.jpg"), 3, "only http and https"),
        (csv_bytes("1,A,https://a.example/1.jpg", "1,B,https://a.example/2.jpg"), 3, "already used on line 2"),
    ],
)
def test_a_bad_csv_gets_a_4xx_that_names_the_line_and_nothing_is_stored(api, clean_database, data, line, fragment):
    base, _ = api

    body = assert_problem(upload(base, data), 422, "invalid_csv")

    assert body["errors"][0]["line"] == line
    assert fragment in body["errors"][0]["message"]
    assert body["errorCount"] >= 1
    assert stored_rows(clean_database) == 0


def test_errors_name_the_column_and_are_capped_at_a_hundred(api):
    base, _ = api

    body = assert_problem(
        upload(base, csv_bytes(*(f"{n},,https://a.example/{n}.jpg" for n in range(1, 151)))), 422, "invalid_csv"
    )

    assert len(body["errors"]) == 100 and body["errorCount"] == 150
    assert body["errors"][0] == {"line": 2, "column": "Product Name", "message": "is empty"}


def test_too_many_rows_is_413(api, clean_database):
    base, _ = api

    body = assert_problem(
        upload(base, csv_bytes(*(f"{n},P,https://a.example/{n}.jpg" for n in range(1, 502)))), 413, "too_many_rows"
    )

    assert "more than 500" in body["detail"]
    assert stored_rows(clean_database) == 0


def test_too_many_bytes_is_413_whether_announced_or_streamed(api):
    base, _ = api
    big = csv_bytes(*(f"{n},{'P' * 900},https://a.example/{n}.jpg" for n in range(1, 400)))

    assert_problem(upload(base, big), 413, "payload_too_large")

    boundary = "imgoptboundary"

    def chunks():
        yield f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'.encode()
        for start in range(0, len(big), 16_384):
            yield big[start : start + 16_384]
        yield f"\r\n--{boundary}--\r\n".encode()

    streamed = httpx.post(
        f"{base}/upload", content=chunks(), headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert_problem(streamed, 413, "payload_too_large")


def test_an_upload_without_a_file_says_so(api):
    base, _ = api

    assert_problem(httpx.post(f"{base}/upload", files={"other": ("a.csv", b"x")}), 422, "missing_file")


@pytest.mark.parametrize(
    "request_args",
    [
        {"content": HEADER.encode(), "headers": {"content-type": "text/csv"}},
        {"data": {"webhookUrl": "http://x"}},
        {"json": {"file": "S. No.,Product Name,Input Image Urls"}},
    ],
)
def test_an_upload_that_is_not_multipart_is_415_saying_how_to_send_it(api, request_args):
    base, _ = api

    body = assert_problem(httpx.post(f"{base}/upload", **request_args), 415, "unsupported_media_type")

    assert "multipart/form-data" in body["detail"] and "'file'" in body["detail"]


def test_a_broken_multipart_body_is_400(api):
    base, _ = api

    response = httpx.post(
        f"{base}/upload", content=b"--x\r\ngarbage", headers={"content-type": "multipart/form-data; boundary=x"}
    )

    assert_problem(response, 400, "bad_request")


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [({"quality": "0"}, "quality"), ({"format": "bmp"}, "format"), ({"maxWidth": "wide"}, "maxWidth")],
)
def test_bad_options_are_refused_naming_the_field(api, fields, fragment):
    base, _ = api

    body = assert_problem(upload(base, csv_bytes("1,A,https://a.example/1.jpg"), **fields), 422, "invalid_options")

    assert fragment in body["detail"]


def test_status_of_an_unknown_request_is_404_and_a_malformed_id_is_400(api):
    base, _ = api

    assert_problem(httpx.get(f"{base}/status/{uuid.uuid4()}"), 404, "request_not_found")
    assert_problem(httpx.get(f"{base}/status/not-a-uuid"), 400, "invalid_id")
    assert_problem(httpx.get(f"{base}/status/{uuid.uuid4()}/output.csv"), 404, "request_not_found")


def test_a_bad_details_flag_is_400(api):
    base, _ = api
    request_id = upload(base, csv_bytes("1,A,https://a.example/1.jpg")).json()["requestId"]

    assert_problem(httpx.get(f"{base}/status/{request_id}", params={"details": "perhaps"}), 400, "invalid_request")


@pytest.mark.parametrize("status", ["", "  ", "done"])
def test_an_empty_or_unknown_status_filter_is_400_not_every_request(api, status):
    base, _ = api

    body = assert_problem(httpx.get(f"{base}/requests", params={"status": status}), 400, "invalid_status")
    assert "pending" in body["detail"], body


@pytest.mark.parametrize("limit", ["0", "1001", "-1"])
def test_a_page_size_outside_1_to_1000_is_400(api, limit):
    base, _ = api

    for path in ("/requests", "/webhooks"):
        response = httpx.get(f"{base}{path}", params={"limit": limit})
        assert response.status_code == 400, (path, response.text)
        assert "limit" in response.json()["detail"], response.text


def test_the_output_csv_is_409_until_the_request_has_finished(api):
    base, _ = api
    request_id = upload(base, csv_bytes("1,A,https://a.example/1.jpg")).json()["requestId"]

    body = assert_problem(httpx.get(f"{base}/status/{request_id}/output.csv"), 409, "request_not_finished")

    assert "still pending" in body["detail"]


def test_registering_a_webhook_returns_its_signing_secret(api):
    base, _ = api
    request_id = upload(base, csv_bytes("1,A,https://a.example/1.jpg")).json()["requestId"]

    response = httpx.post(
        f"{base}/webhook/register", json={"requestId": request_id, "webhookUrl": "http://127.0.0.1:9/in"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (
        body["requestId"] == request_id and body["webhookUrl"] == "http://127.0.0.1:9/in" and body["format"] == "json"
    )
    assert body["secret"].startswith("whsec_") and uuid.UUID(body["id"])


def test_a_webhook_without_a_request_covers_every_request(api):
    base, _ = api

    response = httpx.post(
        f"{base}/webhook/register", json={"webhookUrl": "http://127.0.0.1:9/all", "format": "multipart-csv"}
    )

    assert response.status_code == 201 and response.json()["requestId"] is None
    assert response.json()["format"] == "multipart-csv"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"webhookUrl": "ftp://hooks.example/in"}, 422, "unsafe_url"),
        ({"webhookUrl": "javascript:alert(1)"}, 422, "unsafe_url"),
        ({"webhookUrl": "http://169.254.169.254/latest/meta-data"}, 422, "unsafe_url"),
        ({"webhookUrl": "http://[fe80::1%25lo]/hook"}, 422, "unsafe_url"),
        ({"webhookUrl": "http://[2001:db8::1%25eth0]:8080/hook"}, 422, "unsafe_url"),
        ({"webhookUrl": "http://127.0.0.1:9/x", "format": "xml"}, 422, "invalid_webhook"),
        ({"webhookUrl": "http://127.0.0.1:9/x", "requestId": "nope"}, 400, "invalid_id"),
        ({"webhookUrl": "http://127.0.0.1:9/x", "requestId": str(uuid.UUID(int=5))}, 404, "request_not_found"),
        ({"requestId": str(uuid.UUID(int=5))}, 400, "invalid_request"),
    ],
)
def test_bad_webhook_registrations_are_4xx(api, body, status, code):
    base, _ = api

    assert_problem(httpx.post(f"{base}/webhook/register", json=body), status, code)


def test_malformed_json_is_400(api):
    base, _ = api

    response = httpx.post(
        f"{base}/webhook/register", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert "JSON is malformed" in assert_problem(response, 400, "bad_request")["detail"]


def test_health_readiness_and_the_openapi_schema(api):
    base, _ = api

    assert httpx.get(f"{base}/health").json() == {"status": "ok"}
    assert httpx.get(f"{base}/ready").json() == {"status": "ready"}
    paths = httpx.get(f"{base}/schema/openapi.json").json()["paths"]
    assert {
        "/upload",
        "/status/{request_id}",
        "/status/{request_id}/output.csv",
        "/webhook/register",
        "/health",
        "/ready",
    } <= paths.keys()


def test_unknown_routes_and_methods_use_the_same_error_shape(api):
    base, _ = api

    assert_problem(httpx.get(f"{base}/nowhere"), 404, "not_found")
    assert_problem(httpx.delete(f"{base}/upload"), 405, "method_not_allowed")


def test_json_nested_a_thousand_deep_is_a_400_not_a_crash(api):
    base, _ = api
    nested = b'{"webhookUrl": ' + b"[" * 1000 + b"]" * 1000 + b"}"

    response = httpx.post(f"{base}/webhook/register", content=nested, headers={"content-type": "application/json"})

    assert "nested too deeply" in assert_problem(response, 400, "bad_request")["detail"]
    assert len(nested) < 2100


def test_a_json_body_over_the_small_body_limit_names_that_limit_not_the_upload_one(api):
    base, _ = api
    body = {"webhookUrl": "http://127.0.0.1:9/" + "a" * 70_000}

    response = httpx.post(f"{base}/webhook/register", json=body)

    detail = assert_problem(response, 413, "payload_too_large")["detail"]
    assert "64 KiB" in detail and "/webhook/register" in detail
    assert "IMGOPT_MAX_UPLOAD_BYTES" not in detail


def test_an_upload_over_its_limit_names_the_setting_and_the_size(api):
    base, _ = api

    response = upload(base, csv_bytes(*(f"{n},{'P' * 900},https://a.example/{n}.jpg" for n in range(1, 400))))

    detail = assert_problem(response, 413, "payload_too_large")["detail"]
    assert "256 KiB" in detail and "IMGOPT_MAX_UPLOAD_BYTES" in detail


def multipart(*parts: bytes) -> dict:
    body = b"".join(b"--b\r\n" + part + b"\r\n" for part in parts) + b"--b--\r\n"
    return {"content": body, "headers": {"content-type": "multipart/form-data; boundary=b"}}


def test_a_form_with_thousands_of_fields_is_413_saying_how_many_are_allowed(api):
    base, _ = api
    fields = (b'Content-Disposition: form-data; name="f%d"\r\n\r\nx' % n for n in range(1500))

    response = httpx.post(f"{base}/upload", **multipart(*fields))

    assert "more than 1000 fields" in assert_problem(response, 413, "form_too_large")["detail"]


def test_a_form_field_with_an_oversize_header_is_413_saying_which_header(api):
    base, _ = api
    filename = b"a" * 5000 + b".csv"

    response = httpx.post(
        f"{base}/upload",
        **multipart(
            b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n\r\n' + HEADER.encode()
        ),
    )

    assert "header" in assert_problem(response, 413, "form_too_large")["detail"]


def test_a_file_field_sent_as_text_says_it_must_be_a_file_upload(api, clean_database):
    base, _ = api

    response = httpx.post(
        f"{base}/upload",
        **multipart(b'Content-Disposition: form-data; name="file"\r\n\r\n' + csv_bytes("1,A,https://a.example/1.jpg")),
    )

    assert "must be a file upload" in assert_problem(response, 422, "missing_file")["detail"]
    assert stored_rows(clean_database) == 0


@pytest.mark.parametrize(
    "part",
    [
        b'Content-Disposition: form-data; name="webhookUrl"\r\n\r\n\x89PNG\r\n\x1a\n\x00\xff',
        b'Content-Disposition: form-data; name="quality"\r\nContent-Type: text/plain; charset=nonesuch\r\n\r\n50',
    ],
    ids=["binary bytes in a text field", "a charset that does not exist"],
)
def test_a_form_field_that_is_not_text_in_its_charset_is_400(api, part):
    base, _ = api

    response = httpx.post(f"{base}/upload", **multipart(part))

    assert "not text in the charset it declares" in assert_problem(response, 400, "bad_request")["detail"]


def test_an_empty_request_id_is_a_malformed_id_not_a_webhook_for_every_upload(api):
    base, _ = api

    response = httpx.post(f"{base}/webhook/register", json={"webhookUrl": "http://127.0.0.1:9/x", "requestId": ""})

    assert_problem(response, 400, "invalid_id")


def test_a_missing_json_body_says_the_body_is_missing(api):
    base, _ = api

    response = httpx.post(f"{base}/webhook/register", headers={"content-type": "application/json"})

    assert assert_problem(response, 400, "invalid_request")["detail"] == "body: is missing"


def test_a_wrong_method_is_405_with_the_allowed_methods(api):
    base, _ = api

    response = httpx.put(f"{base}/status/{uuid.uuid4()}")

    assert "PUT is not allowed" in assert_problem(response, 405, "method_not_allowed")["detail"]
    assert "GET" in {method.strip() for method in response.headers["allow"].split(",")}


def test_options_on_the_upload_path_lists_its_methods_without_asking_for_a_form(api):
    base, _ = api

    response = httpx.options(f"{base}/upload")

    assert response.status_code == 204, response.text
    assert "POST" in {method.strip() for method in response.headers["allow"].split(",")}


def test_the_openapi_document_declares_every_error_as_a_problem_and_ids_as_uuids(api):
    base, _ = api

    document = httpx.get(f"{base}/schema/openapi.json").json()

    declared = {
        (method.upper(), path): sorted(int(status) for status in operation["responses"] if int(status) >= 400)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    keyed = [401, 429]  # every operation behind a key
    assert declared == {
        ("POST", "/upload"): sorted([400, 413, 415, 422, *keyed]),
        ("GET", "/status/{request_id}"): sorted([400, 404, *keyed]),
        ("GET", "/status/{request_id}/output.csv"): sorted([400, 404, 409, *keyed]),
        ("POST", "/webhook/register"): sorted([400, 404, 413, 422, *keyed]),
        ("GET", "/requests"): sorted([400, *keyed]),
        ("POST", "/requests/{request_id}/cancel"): sorted([400, 404, 409, *keyed]),
        ("POST", "/requests/{request_id}/retry"): sorted([400, 404, 409, *keyed]),
        ("DELETE", "/requests/{request_id}"): sorted([400, 404, 409, *keyed, 503]),
        ("GET", "/webhooks"): sorted([400, *keyed]),
        ("DELETE", "/webhooks/{webhook_id}"): sorted([400, 404, *keyed]),
        ("POST", "/webhooks/{webhook_id}/rotate-secret"): sorted([400, 404, *keyed]),
        ("GET", "/webhooks/{webhook_id}/deliveries"): sorted([400, 404, *keyed]),
        ("POST", "/deliveries/{delivery_id}/redeliver"): sorted([400, 404, 409, *keyed]),
        ("GET", "/files/{key}"): [400, 404, 503],
        ("HEAD", "/files/{key}"): [400, 404, 503],
        ("GET", "/health"): [],
        ("GET", "/ready"): [503],
    }
    errors = [
        response
        for operations in document["paths"].values()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]
    assert all(list(e["content"]) == ["application/problem+json"] for e in errors)
    assert {e["content"]["application/problem+json"]["schema"]["$ref"] for e in errors} == {
        "#/components/schemas/Problem"
    }
    parameters = document["paths"]["/status/{request_id}"]["get"]["parameters"]
    assert next(p for p in parameters if p["name"] == "request_id")["schema"]["format"] == "uuid"
    assert document["components"]["schemas"]["RegisterWebhookBody"]["properties"]["requestId"]["format"] == "uuid"


@pytest.mark.parametrize("path", ["/health", "/schema/openapi.json", "/no-such-route", "/status/not-a-uuid"])
def test_every_api_response_carries_the_security_headers(api, path):
    base, _ = api

    response = httpx.get(base + path)

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_console_keeps_its_own_policy(api):
    base, _ = api

    response = httpx.get(base + "/")

    assert response.headers.get_list("content-security-policy") == [response.headers["content-security-policy"]]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "no-referrer"


def test_two_file_parts_get_a_400_that_says_to_send_exactly_one(api):
    base, _ = api
    csv = csv_bytes("1,Shirt,https://a.example/1.jpg")

    response = httpx.post(
        f"{base}/upload", files=[("file", ("a.csv", csv, "text/csv")), ("file", ("b.csv", csv, "text/csv"))]
    )

    detail = assert_problem(response, 400, "one_file_part")["detail"]
    assert detail == "send exactly one file part named 'file' (the CSV); got 2"
