"""A typed Python client of the imgopt HTTP API; it needs httpx and msgspec only.

from imgopt.client import Client

with Client("https://imgopt.example.com", key="…") as imgopt:
    receipt = imgopt.upload("products.csv", format="webp", max_width=1200)
    status = imgopt.wait(receipt.request_id, timeout=600)
    csv = imgopt.output_csv(receipt.request_id)
"""

from imgopt.client.api import Client
from imgopt.client.errors import ApiError, ConnectionFailed, ImgoptError, InvalidSignature, WaitTimeout
from imgopt.client.models import (
    CsvProblem,
    DeliveryPage,
    Problem,
    Redelivery,
    RequestChange,
    RequestPage,
    RequestSummary,
    RotatedSecret,
    UploadReceipt,
    Webhook,
    WebhookEvent,
    WebhookPage,
    WebhookRegistration,
    WebhookSecret,
)
from imgopt.client.status import (
    FINISHED,
    Attempt,
    Delivery,
    Details,
    Image,
    ImageCounts,
    Options,
    Product,
    ProductCounts,
    Status,
)
from imgopt.client.webhooks import verify_signature, verify_webhook

__all__ = [
    "FINISHED",
    "ApiError",
    "Attempt",
    "Client",
    "ConnectionFailed",
    "CsvProblem",
    "Delivery",
    "DeliveryPage",
    "Details",
    "Image",
    "ImageCounts",
    "ImgoptError",
    "InvalidSignature",
    "Options",
    "Problem",
    "Product",
    "ProductCounts",
    "Redelivery",
    "RequestChange",
    "RequestPage",
    "RequestSummary",
    "RotatedSecret",
    "Status",
    "UploadReceipt",
    "WaitTimeout",
    "Webhook",
    "WebhookEvent",
    "WebhookPage",
    "WebhookRegistration",
    "WebhookSecret",
    "verify_signature",
    "verify_webhook",
]
