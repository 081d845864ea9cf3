"""Check that a webhook really comes from imgopt: Standard Webhooks signatures, checked with the stdlib."""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

import msgspec

from imgopt.client.errors import InvalidSignature
from imgopt.client.models import WebhookEvent

SECRET_PREFIX = "whsec_"
# Standard Webhooks' advice: refuse messages timed more than five minutes away, so a captured one
# cannot be replayed later.
TOLERANCE_SECONDS = 5 * 60


def verify_webhook(
    headers: Mapping[str, str], body: bytes, secret: str, *, tolerance: float = TOLERANCE_SECONDS
) -> WebhookEvent:
    """The event in `body` once its signature is checked against `secret` (the `whsec_…` value).

    `headers` are the request's (any case); `body` its raw bytes, before any JSON parsing.
    Raises `InvalidSignature` when a header is missing, the timestamp is too far from now, or no
    signature matches.
    """
    verify_signature(headers, body, secret, tolerance=tolerance)
    try:
        return msgspec.json.decode(body, type=WebhookEvent)
    except msgspec.DecodeError as exc:
        raise InvalidSignature(f"the signed body is not a JSON event: {exc}") from None


def verify_signature(
    headers: Mapping[str, str], body: bytes, secret: str, *, tolerance: float = TOLERANCE_SECONDS
) -> None:
    """Only the check, for bodies that are not JSON events (the `multipart-csv` format)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        message_id, timestamp, signatures = (lowered[f"webhook-{name}"] for name in ("id", "timestamp", "signature"))
    except KeyError as missing:
        raise InvalidSignature(f"the {missing.args[0]} header is missing") from None
    if not timestamp.isdigit():
        raise InvalidSignature(f"webhook-timestamp is not a whole number of seconds: {timestamp[:40]!r}")
    if abs(time.time() - int(timestamp)) > tolerance:
        raise InvalidSignature(f"webhook-timestamp {timestamp} is more than {tolerance:g} s from now")
    expected = _sign(secret, f"{message_id}.{timestamp}.".encode() + body)
    # Several signatures, space-separated, arrive while a secret is being rotated: any one may match.
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            return
    raise InvalidSignature("no webhook-signature matches this body and secret")


def _sign(secret: str, signed: bytes) -> str:
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        raise InvalidSignature("the secret is not a whsec_ value (base64 after the prefix)") from None
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
