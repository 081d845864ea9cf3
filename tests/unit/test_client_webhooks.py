"""The client's webhook check agrees with imgopt's signer and with the standardwebhooks package."""

import base64
import json
import time

import pytest
import standardwebhooks

from imgopt.client import InvalidSignature, verify_signature, verify_webhook
from imgopt.domain.webhooks import signature_headers

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()
STATUS = {
    "requestId": "0b2f6a5f-8981-41c3-92f2-0794f3c6c4ea",
    "status": "completed",
    "createdAt": "2026-11-24T10:00:00.101Z",
    "startedAt": "2026-11-24T10:00:00.109Z",
    "finishedAt": "2026-11-24T10:00:01.940Z",
    "options": {"quality": 50, "maxWidth": None, "maxHeight": None, "format": "original"},
    "products": {"total": 1, "finished": 1, "withErrors": 0},
    "images": {"total": 1, "pending": 0, "processing": 0, "optimized": 1, "failed": 0},
    "bytesIn": 1000,
    "bytesOut": 250,
    "outputCsvUrl": "http://imgopt.test/status/0b2f6a5f-8981-41c3-92f2-0794f3c6c4ea/output.csv",
}
BODY = json.dumps({"type": "request.completed", "timestamp": "2026-11-24T10:00:02Z", "data": STATUS}).encode()


def test_a_body_signed_by_imgopt_verifies_into_a_typed_event():
    headers = signature_headers([SECRET], "msg_1", int(time.time()), BODY)

    event = verify_webhook(headers, BODY, SECRET)

    assert (event.type, str(event.data.request_id), event.data.saving) == (
        "request.completed",
        STATUS["requestId"],
        0.75,
    )


def test_a_body_signed_by_the_standardwebhooks_package_verifies_too_whatever_the_header_case():
    now = int(time.time())
    signature = standardwebhooks.Webhook(SECRET).sign(
        "msg_2", standardwebhooks.webhooks.datetime.fromtimestamp(now), BODY.decode()
    )
    headers = {"Webhook-Id": "msg_2", "Webhook-Timestamp": str(now), "Webhook-Signature": signature}

    assert verify_webhook(headers, BODY, SECRET).data.status == "completed"


def test_any_one_of_several_signatures_may_match_as_while_a_secret_is_rotated():
    now = int(time.time())
    old = signature_headers([OTHER_SECRET], "msg_3", now, BODY)["webhook-signature"]
    new = signature_headers([SECRET], "msg_3", now, BODY)
    headers = {**new, "webhook-signature": f"{old} {new['webhook-signature']}"}

    verify_signature(headers, BODY, SECRET)
    verify_signature(headers, BODY, OTHER_SECRET)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: (h, b.replace(b"completed", b"failed!!!")), "no webhook-signature matches"),
        (lambda h, b: ({**h, "webhook-id": "msg_other"}, b), "no webhook-signature matches"),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
            "webhook-signature header is missing",
        ),
        (lambda h, b: ({**h, "webhook-timestamp": str(int(time.time()) - 3600)}, b), "more than 300 s from now"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "not a whole number"),
        (lambda h, b: ({**h, "webhook-signature": "v2,abc"}, b), "no webhook-signature matches"),
    ],
)
def test_a_tampered_replayed_or_incomplete_webhook_is_refused_with_the_reason(change, reason):
    headers, body = change(signature_headers([SECRET], "msg_4", int(time.time()), BODY), BODY)

    with pytest.raises(InvalidSignature, match=reason):
        verify_webhook(headers, body, SECRET)


def test_a_secret_that_is_not_a_whsec_value_is_refused_plainly():
    headers = signature_headers([SECRET], "msg_5", int(time.time()), BODY)

    with pytest.raises(InvalidSignature, match="not a whsec_ value"):
        verify_webhook(headers, BODY, "whsec_not base64!")
