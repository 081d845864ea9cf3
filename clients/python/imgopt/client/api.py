"""`Client`: upload CSVs to an imgopt API, follow them, fetch their output, register webhooks."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote
from uuid import UUID

import httpx
import msgspec

from imgopt.client.models import (
    DeliveryPage,
    Redelivery,
    RequestChange,
    RequestPage,
    RotatedSecret,
    UploadReceipt,
    WebhookPage,
    WebhookRegistration,
)
from imgopt.client.session import ApiSession
from imgopt.client.status import Status
from imgopt.client.waiting import poll_until_finished

CsvSource = str | os.PathLike | bytes | BinaryIO


class Client:
    """A typed client of one imgopt API. Use it as a context manager, or call `close()`.

    `key` is sent as `Authorization: Bearer …`; leave it out where the server runs with IMGOPT_AUTH=off.
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        key: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api = ApiSession(base_url, key, timeout, transport)
        self.base_url = self._api.base_url

    def upload(
        self,
        csv: CsvSource,
        *,
        quality: int | str | None = None,
        max_width: int | None = None,
        max_height: int | None = None,
        format: str | None = None,
        webhook_url: str | None = None,
        webhook_format: str | None = None,
    ) -> UploadReceipt:
        """Upload a CSV (a path, its bytes, or a binary file); a refused file raises `ApiError` with its lines."""
        fields = {
            "quality": quality,
            "maxWidth": max_width,
            "maxHeight": max_height,
            "format": format,
            "webhookUrl": webhook_url,
            "webhookFormat": webhook_format,
        }
        form = {name: str(value) for name, value in fields.items() if value is not None}
        if isinstance(csv, str | os.PathLike):
            with open(csv, "rb") as file:
                return self._upload(Path(csv).name, file, form)
        return self._upload(Path(getattr(csv, "name", "") or "products.csv").name, csv, form)

    def status(self, request_id: str | UUID, details: bool = False, page_size: int | None = None) -> Status:
        """The request's progress; with `details`, every product and image (all pages, fetched in turn)."""
        path = _status_path(request_id)
        if not details:
            return self._api.call(Status, "GET", path)
        params = {"details": "true", **({"limit": page_size} if page_size else {})}
        first = self._api.call(Status, "GET", path, params=params)
        products, cursor = list(first.details.products), first.details.next_cursor
        while cursor:
            page = self._api.call(Status, "GET", path, params={**params, "cursor": cursor}).details
            products.extend(page.products)
            cursor = page.next_cursor
        return msgspec.structs.replace(
            first, details=msgspec.structs.replace(first.details, products=products, next_cursor=None)
        )

    def wait(
        self,
        request_id: str | UUID,
        timeout: float | None = None,
        poll: float = 1.0,
        on_progress: Callable[[Status], object] | None = None,
    ) -> Status:
        """Poll until the request has finished and return its status; `WaitTimeout` after `timeout` seconds.

        A few passing failures in a row (the API restarting, a proxy's 502) are waited out, not raised.
        """
        return poll_until_finished(lambda: self.status(request_id), timeout, poll, on_progress)

    def output_csv(self, request_id: str | UUID) -> bytes:
        """The output CSV of a finished request (`ApiError` 409 `request_not_finished` before)."""
        return self._api.send("GET", f"{_status_path(request_id)}/output.csv").content

    def save_output_csv(self, request_id: str | UUID, path: str | os.PathLike) -> Path:
        """Stream the output CSV into `path` (written whole or not at all); returns the path."""
        return self._api.download(f"{_status_path(request_id)}/output.csv", Path(path))

    def register_webhook(
        self, webhook_url: str, request_id: str | UUID | None = None, format: str = "json"
    ) -> WebhookRegistration:
        """Announce one request (or, without `request_id`, every one) to `webhook_url`; keep the secret."""
        body = {"webhookUrl": webhook_url, "format": format}
        if request_id is not None:
            body["requestId"] = str(request_id)
        return self._api.call(WebhookRegistration, "POST", "/webhook/register", json=body)

    def requests(self, status: str | None = None, cursor: str | None = None, limit: int | None = None) -> RequestPage:
        """One page of your requests, newest first; pass `page.next_cursor` as `cursor` for the next."""
        params = {name: value for name, value in (("status", status), ("cursor", cursor), ("limit", limit)) if value}
        return self._api.call(RequestPage, "GET", "/requests", params=params)

    def cancel(self, request_id: str | UUID) -> RequestChange:
        """Cancel the images not yet started; the request ends as `cancelled` (409 once it has finished)."""
        return self._api.call(RequestChange, "POST", f"{_request_path(request_id)}/cancel")

    def retry(self, request_id: str | UUID) -> RequestChange:
        """Queue a finished request's failed images again; it reopens and is announced again when done."""
        return self._api.call(RequestChange, "POST", f"{_request_path(request_id)}/retry")

    def delete(self, request_id: str | UUID) -> None:
        """Delete a finished request: its optimized images, then its records."""
        self._api.send("DELETE", _request_path(request_id))

    def webhooks(self, cursor: str | None = None, limit: int | None = None) -> WebhookPage:
        params = {name: value for name, value in (("cursor", cursor), ("limit", limit)) if value}
        return self._api.call(WebhookPage, "GET", "/webhooks", params=params)

    def delete_webhook(self, webhook_id: str | UUID) -> None:
        self._api.send("DELETE", _segment("/webhooks", webhook_id))

    def rotate_webhook_secret(self, webhook_id: str | UUID) -> RotatedSecret:
        """A new secret; messages are signed with both for 24 h, so verify with either meanwhile."""
        return self._api.call(RotatedSecret, "POST", f"{_segment('/webhooks', webhook_id)}/rotate-secret")

    def deliveries(self, webhook_id: str | UUID, cursor: str | None = None, limit: int | None = None) -> DeliveryPage:
        """A webhook's deliveries, newest first, each with its log of attempts."""
        params = {name: value for name, value in (("cursor", cursor), ("limit", limit)) if value}
        return self._api.call(DeliveryPage, "GET", f"{_segment('/webhooks', webhook_id)}/deliveries", params=params)

    def redeliver(self, delivery_id: str) -> Redelivery:
        """Send a delivery again, under the same `webhook-id`."""
        return self._api.call(Redelivery, "POST", f"{_segment('/deliveries', delivery_id)}/redeliver")

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _upload(self, filename: str, file: bytes | BinaryIO, form: dict[str, str]) -> UploadReceipt:
        return self._api.call(UploadReceipt, "POST", "/upload", files={"file": (filename, file, "text/csv")}, data=form)


def _segment(prefix: str, identifier: str | UUID) -> str:
    # An id typed by a person stays one path segment, whatever it holds; the server judges it.
    return f"{prefix}/{quote(str(identifier).strip(), safe='')}"


def _status_path(request_id: str | UUID) -> str:
    return _segment("/status", request_id)


def _request_path(request_id: str | UUID) -> str:
    return _segment("/requests", request_id)
