"""Keys, callers and tenants, on the fakes: what a key is, who it stands for, and what a tenant sees."""

from datetime import UTC, datetime

import pytest

from imgopt.application.errors import RequestNotFinished, RequestNotFound
from imgopt.application.ports import Position
from imgopt.application.use_cases.api_keys import Authenticate
from imgopt.domain.lifecycle import RequestStatus
from imgopt.domain.limits import TokenBucket, TooManyWaitingImages
from imgopt.domain.tenancy import ANONYMOUS, KEY_PATTERN, Caller, KeyNotFound, Unauthenticated, hash_key
from imgopt.domain.webhooks import WebhookNotFound
from tests.unit.fakes import FakeApiKeyReader, FixedClock
from tests.unit.world import TENANT_A, TENANT_B, World

JPEG = b"\xff\xd8\xff" + b"x" * 97


def test_a_new_key_is_shown_once_and_only_its_hash_and_first_characters_are_kept():
    w = World()

    created = w.create_key("team-a", "ci")

    [stored] = w.db.state.keys.values()
    assert KEY_PATTERN.fullmatch(created.plaintext)
    assert stored.key_hash == hash_key(created.plaintext) and created.plaintext not in repr(w.db.state)
    assert stored.prefix == created.plaintext[:13] and (created.tenant, stored.name) == ("team-a", "ci")
    assert [(listed.key.id, listed.tenant) for listed in w.list_keys("team-a")] == [(stored.id, "team-a")]


def test_the_tenant_is_created_on_first_use_and_shared_by_its_later_keys():
    w = World()

    first, second, other = w.create_key("team-a", "one"), w.create_key("team-a", "two"), w.create_key("b", "x")

    assert first.key.tenant_id == second.key.tenant_id != other.key.tenant_id
    assert [listed.key.name for listed in w.list_keys("team-a")] == ["two", "one"]
    assert len(w.list_keys()) == 3 and w.list_keys("nobody") == []


def test_a_live_key_stands_for_its_tenant():
    w = World()
    created = w.create_key("team-a", "ci")

    caller = w.authenticate(created.plaintext)

    assert caller == Caller(created.key.tenant_id, created.key.id)


@pytest.mark.parametrize(
    ("presented", "reason"),
    [
        (None, "needs an API key"),
        ("", "needs an API key"),
        ("secret", "malformed"),
        ("imgopt_" + "A" * 43, "unknown or has been revoked"),
    ],
)
def test_a_missing_malformed_or_unknown_key_is_refused_saying_which(presented, reason):
    w = World()
    w.create_key("team-a", "ci")

    with pytest.raises(Unauthenticated, match=reason):
        w.authenticate(presented)


def test_a_revoked_key_is_refused_from_then_on():
    w = World()
    created = w.create_key("team-a", "ci")

    w.revoke_key(created.key.id)

    with pytest.raises(Unauthenticated, match="revoked"):
        w.authenticate(created.plaintext)
    with pytest.raises(KeyNotFound):
        w.revoke_key(TENANT_B)


def test_with_authentication_off_every_caller_is_the_anonymous_tenant():
    authenticate = Authenticate(FakeApiKeyReader(World().db), required=False)

    assert authenticate(None) is ANONYMOUS and authenticate.at_once("anything") is ANONYMOUS


def test_another_tenants_request_is_not_found_like_an_unknown_one_and_is_left_alone():
    a = World(FixedClock(datetime.now(UTC)), images={"https://o.example/1.jpg": JPEG})
    b = a.acting_as(TENANT_B)
    receipt = a.upload("1,P,https://o.example/1.jpg", webhook="https://hooks.example/a")
    a.process()
    [delivery] = a.db.state.deliveries.values()
    before = a.db.snapshot()

    calls = [
        lambda: b.status(receipt.request_id),
        lambda: b.status(receipt.request_id, details=True),
        lambda: b.export(receipt.request_id),
        lambda: b.register("https://hooks.example/b", receipt.request_id),
        lambda: b.cancel(receipt.request_id),
        lambda: b.retry_request(receipt.request_id),
        lambda: b.delete(receipt.request_id),
    ]
    for call in calls:
        with pytest.raises(RequestNotFound):
            call()
    for call in (lambda: b.delete_webhook(receipt.webhook.id), lambda: b.rotate(receipt.webhook.id)):
        with pytest.raises(WebhookNotFound):
            call()
    with pytest.raises(WebhookNotFound):
        b.deliveries(receipt.webhook.id)

    assert a.db.snapshot() == before
    assert b.list_requests().items == [] and b.list_webhooks().items == []
    assert a.list_requests().items[0].request_id == receipt.request_id
    assert delivery.id in a.db.state.deliveries


def test_a_global_webhook_announces_only_its_own_tenants_requests():
    a = World(FixedClock(datetime.now(UTC)), images={"https://o.example/1.jpg": JPEG, "https://o.example/2.jpg": JPEG})
    b = a.acting_as(TENANT_B)
    b.register("https://hooks.example/b-everything")
    a.register("https://hooks.example/a-everything")

    a.upload("1,P,https://o.example/1.jpg")
    mine = b.upload("1,P,https://o.example/2.jpg")
    a.process()
    a.deliver()

    sent = sorted((url, body) for url, _, body, _ in a.sender.sent)
    assert [url for url, _ in sent] == ["https://hooks.example/a-everything", "https://hooks.example/b-everything"]
    assert str(mine.request_id).encode() in sent[1][1]


def test_requests_are_listed_newest_first_a_page_at_a_time_and_by_status():
    w = World(images={"https://o.example/1.jpg": JPEG})
    ids = []
    for _ in range(5):
        ids.append(w.upload("1,P,https://o.example/1.jpg").request_id)
        w.clock.advance(seconds=1)
    w.cancel(ids[0])

    first = w.list_requests(limit=2)
    second = w.list_requests(after=first.next, limit=2)
    third = w.list_requests(after=second.next, limit=2)
    cancelled = w.list_requests(RequestStatus.CANCELLED)

    listed = [s.request_id for page in (first, second, third) for s in page.items]
    assert listed == ids[::-1] and third.next is None and isinstance(first.next, Position)
    assert [s.request_id for s in cancelled.items] == [ids[0]]


def test_an_upload_beyond_the_waiting_images_limit_is_refused_saying_the_limit_and_the_count():
    w = World(waiting_limit=3)
    w.upload('1,P,"https://o.example/1.jpg,https://o.example/2.jpg"')
    w.acting_as(TENANT_B).upload('1,P,"https://o.example/1.jpg,https://o.example/2.jpg"')

    with pytest.raises(
        TooManyWaitingImages, match=r"this upload has 2 images and 2 of yours are still waiting; at most 3"
    ):
        w.upload('1,P,"https://o.example/3.jpg,https://o.example/4.jpg"')

    assert len(w.list_requests().items) == 1 and w.tenant == TENANT_A


def test_a_webhook_whose_host_does_not_resolve_now_is_kept_with_a_warning():
    w = World()

    registration = w.register("https://nowhere.example/hook")

    assert registration.webhook.id in w.db.state.webhooks
    assert "does not resolve" in registration.warning and "checked again at every delivery" in registration.warning


def test_a_token_bucket_admits_bursts_up_to_the_limit_then_says_when_to_come_back():
    bucket = TokenBucket(per_minute=3, now=0.0)

    waits = [bucket.take(0.0) for _ in range(4)]
    later = bucket.take(20.0)

    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == pytest.approx(20.0)
    assert later == 0.0
    assert TokenBucket.refusal(3, 19.2).retry_after == 20


def test_retrying_a_request_still_running_is_refused():
    w = World()
    receipt = w.upload("1,P,https://o.example/1.jpg")

    with pytest.raises(RequestNotFinished):
        w.retry_request(receipt.request_id)
