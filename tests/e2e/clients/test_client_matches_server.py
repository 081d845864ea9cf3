"""The client's own structs are held to the server: real answers, and the OpenAPI document, have no field they lack.

The client ignores fields it does not know (so an older client keeps working); these tests are where a field
the server gained and the client did not is found, by forbidding unknown fields here.
"""

import types
import typing

import httpx
import msgspec

from imgopt.client import models, status
from tests.support import Reply, wait_for

# Each client struct, and the server's schema of the same answer in /schema/openapi.json.
SERVER_SCHEMAS = {
    status.Status: "StatusResponse",
    status.Options: "OptionsDocument",
    status.ProductCounts: "ProductCountsDocument",
    status.ImageCounts: "ImageCountsDocument",
    status.Details: "DetailsBody",
    status.Product: "ProductBody",
    status.Image: "ImageBody",
    status.Delivery: "DeliveryBody",
    status.Attempt: "AttemptBody",
    models.UploadReceipt: "UploadResponse",
    models.WebhookSecret: "WebhookSecret",
    models.WebhookRegistration: "WebhookResponse",
    models.Problem: "Problem",
    models.CsvProblem: "CsvProblem",
    models.RequestPage: "RequestList",
    models.RequestSummary: "RequestListItem",
    models.RequestChange: "RequestChange",
    models.Webhook: "WebhookBody",
    models.WebhookPage: "WebhookList",
    models.RotatedSecret: "RotatedSecret",
    models.DeliveryPage: "DeliveryList",
    models.Redelivery: "Redelivered",
}


def wire_names(struct: type[msgspec.Struct]) -> dict[str, object]:
    """The struct's fields by their names on the wire, with their types."""
    return {field.encode_name: field.type for field in msgspec.structs.fields(struct)}


def unknown_fields(value: object, kind: object, path: str = "$") -> list[str]:
    """Where `value`, decoded as JSON, holds a key that `kind` (a client struct, a list or union of them) lacks."""
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(value, dict):
        names = wire_names(kind)
        found = [f"{path}.{key}" for key in value if key not in names]
        return found + [
            f for key, item in value.items() if key in names for f in unknown_fields(item, names[key], f"{path}.{key}")
        ]
    if typing.get_origin(kind) is list and isinstance(value, list):
        [item_kind] = typing.get_args(kind)
        return [f for n, item in enumerate(value) for f in unknown_fields(item, item_kind, f"{path}[{n}]")]
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        return [f for arm in typing.get_args(kind) if arm is not type(None) for f in unknown_fields(value, arm, path)]
    return []


def test_a_detailed_status_with_deliveries_decodes_into_the_client_with_no_field_left_over(live):
    hook = live.receiver.route("/matching-hook", Reply(b"", 204))
    upload = httpx.post(
        f"{live.url}/upload",
        files={"file": ("p.csv", live.csv(f'1,Shirt,"{live.photo("small-320x240.jpg")},{live.missing()}"'))},
        data={"webhookUrl": hook, "quality": "auto"},
        timeout=30,
    )
    receipt = upload.json()
    request_id = receipt["requestId"]
    live.finished(request_id)
    answer = wait_for(
        lambda: (
            (got := live.api(f"/status/{request_id}", details="true")).json()["details"]["webhookDeliveries"]
            and got.json()["details"]["webhookDeliveries"][0]["log"]
            and got
        ),
        timeout=60,
        message="the upload's webhook to be attempted",
    )
    listed = live.api("/requests", limit="5")

    decoded = msgspec.json.decode(answer.content, type=status.Status)

    [product] = decoded.details.products
    assert [image.status for image in product.images] == ["optimized", "failed"]
    assert product.images[0].media_type == "image/jpeg" and product.images[0].bytes_out > 0
    assert product.images[0].quality is not None and product.images[0].score is not None
    assert unknown_fields(answer.json(), status.Status) == []
    assert unknown_fields(upload.json(), models.UploadReceipt) == []
    assert unknown_fields(listed.json(), models.RequestPage) == []


def test_every_field_the_openapi_document_declares_is_a_field_of_the_client(live):
    schemas = live.api("/schema/openapi.json").json()["components"]["schemas"]

    missing = {
        struct.__name__: sorted(set(schemas[name]["properties"]) - set(wire_names(struct)))
        for struct, name in SERVER_SCHEMAS.items()
    }

    assert {name: fields for name, fields in missing.items() if fields} == {}
