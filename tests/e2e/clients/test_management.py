"""The management API end to end, through `imgopt.client.Client`, on `imgopt serve` with keys required."""

import json
import subprocess

import httpx
import psycopg
import pytest
import standardwebhooks

from imgopt.client import ApiError, Client, verify_webhook
from tests.support import Reply, corpus_bytes, wait_for


@pytest.fixture
def team_a(live_keyed):
    with Client(live_keyed.url, key=live_keyed.key) as client:
        yield client


@pytest.fixture(scope="module")
def team_b_key(live_keyed):
    return live_keyed.create_key("team-b")["key"]


@pytest.fixture
def team_b(live_keyed, team_b_key):
    with Client(live_keyed.url, key=team_b_key) as client:
        yield client


def events(live, path: str) -> list[dict]:
    return [json.loads(request.body) | {"id": request.headers["webhook-id"]}
            for request in live.receiver.requests if request.path == path]  # fmt: skip


def test_cancelling_ends_the_request_at_once_the_images_in_flight_finish_and_the_rest_are_cancelled(
    live_keyed, team_a, gated_origin
):
    live = live_keyed
    live.receiver.route("/cancelled", Reply(b"", 204))
    rows = [f"{n},P{n},{gated_origin.url(f'p{n}.jpg')}" for n in range(1, 31)]
    receipt = team_a.upload(live.csv(*rows), webhook_url=live.receiver.url("/cancelled"))
    wait_for(lambda: team_a.status(receipt.request_id).images.processing > 0, timeout=60, message="images in flight")

    changed = team_a.cancel(receipt.request_id)
    gated_origin.open()
    final = wait_for(
        lambda: (s := team_a.status(receipt.request_id)).images.processing == 0 and s, timeout=60, message="the end"
    )
    wait_for(lambda: events(live, "/cancelled"), timeout=60, message="the webhook")

    assert changed.status == "cancelled" and changed.images.cancelled >= 20
    assert final.status == "cancelled" and final.images.pending == 0
    assert final.images.optimized + final.images.cancelled == 30 and final.images.optimized >= 1
    [event] = events(live, "/cancelled")
    assert event["data"]["status"] == "cancelled"
    with pytest.raises(ApiError) as again:
        team_a.cancel(receipt.request_id)
    assert again.value.status == 409


def test_retrying_queues_the_failed_images_again_and_the_request_is_announced_again_when_done(live_keyed, team_a):
    live = live_keyed
    live.receiver.route("/retried", Reply(b"", 204))
    flaky = live.origin.route("/later.jpg", Reply(b"not yet", 404), Reply(corpus_bytes("photo.webp")))
    receipt = team_a.upload(
        live.csv(f"1,Shirt,{live.photo('photo.webp')}", f"2,Hat,{flaky}"), webhook_url=live.receiver.url("/retried")
    )
    first = team_a.wait(receipt.request_id, timeout=120, poll=0.2)
    wait_for(lambda: events(live, "/retried"), timeout=60, message="the first webhook")

    reopened = team_a.retry(receipt.request_id)
    second = team_a.wait(receipt.request_id, timeout=120, poll=0.2)
    announced = wait_for(lambda: len(events(live, "/retried")) == 2 and events(live, "/retried"), timeout=60)

    assert (first.status, first.images.failed) == ("completed_with_errors", 1)
    assert (reopened.status, reopened.images.failed) == ("processing", 0)
    assert (second.status, second.images.optimized, second.products.with_errors) == ("completed", 2, 0)
    assert [e["data"]["status"] for e in announced] == ["completed_with_errors", "completed"]
    assert announced[0]["id"] != announced[1]["id"]


def test_deleting_a_finished_request_removes_its_output_files_and_its_records(live_keyed, team_a):
    live = live_keyed
    receipt = team_a.upload(live.csv(f"1,Shirt,{live.photo('small-320x240.jpg')}"))
    team_a.wait(receipt.request_id, timeout=120, poll=0.2)
    [image] = team_a.status(receipt.request_id, details=True).details.products[0].images
    served = httpx.get(image.output_url)

    team_a.delete(receipt.request_id)

    assert served.status_code == 200
    assert httpx.get(image.output_url).status_code == 404
    with pytest.raises(ApiError) as gone:
        team_a.status(receipt.request_id)
    assert gone.value.status == 404
    assert receipt.request_id not in [r.request_id for r in team_a.requests().requests]


def test_a_rotated_secret_and_the_old_one_both_verify_and_a_redelivery_keeps_the_webhook_id(live_keyed, team_a, team_b):
    live = live_keyed
    live.receiver.route("/a-all", Reply(b"", 204))
    live.receiver.route("/b-all", Reply(b"", 204))
    registered = team_a.register_webhook(live.receiver.url("/a-all"))
    theirs = team_b.register_webhook(live.receiver.url("/b-all"))

    rotated = team_a.rotate_webhook_secret(registered.id)
    mine = team_a.upload(live.csv(f"1,Shirt,{live.photo('small-320x240.jpg')}"))
    team_a.wait(mine.request_id, timeout=120, poll=0.2)
    [delivered] = wait_for(lambda: [r for r in live.receiver.requests if r.path == "/a-all"], timeout=60)
    [delivery] = wait_for(
        lambda: [d for d in team_a.deliveries(registered.id).deliveries if d.status == "delivered"], timeout=60
    )
    replay = team_a.redeliver(delivery.id)
    wait_for(lambda: len([r for r in live.receiver.requests if r.path == "/a-all"]) == 2, timeout=60)
    others = team_b.upload(live.csv(f"1,Cap,{live.photo('small-320x240.jpg')}"))
    team_b.wait(others.request_id, timeout=120, poll=0.2)
    wait_for(lambda: events(live, "/b-all"), timeout=60, message="tenant B's own webhook")

    signatures = delivered.headers["webhook-signature"].split()
    assert rotated.secret != registered.secret and len(signatures) == 2
    for secret in (registered.secret, rotated.secret):
        standardwebhooks.Webhook(secret).verify(delivered.body, delivered.headers)
        assert verify_webhook(delivered.headers, delivered.body, secret).data.request_id == mine.request_id
    replayed = [r for r in live.receiver.requests if r.path == "/a-all"][1]
    assert replay.status == "pending" and replayed.headers["webhook-id"] == delivered.headers["webhook-id"]
    assert replayed.body == delivered.body
    log = team_a.deliveries(registered.id).deliveries[0].log
    assert [attempt.status_code for attempt in log] == [204, 204]
    assert {e["data"]["requestId"] for e in events(live, "/b-all")} == {str(others.request_id)}
    assert [w.id for w in team_b.webhooks().webhooks] == [theirs.id]


def test_the_plaintext_keys_are_nowhere_in_the_database_or_the_servers_log(live_keyed, team_b, team_b_key):
    live = live_keyed
    team_b.requests()

    dump = every_row(live.environment["IMGOPT_DATABASE_URL"])
    listed = subprocess.run(
        [*live.cli, "keys", "list", "--json"], env=live.environment, capture_output=True, text=True, check=True
    )

    keys = {live.key, team_b_key}
    assert "team-b" in dump and "images.apikeys" in dump
    assert [k for k in keys if k in dump or k in live.log.read_text() or k in listed.stdout] == []
    assert {k["tenant"] for k in json.loads(listed.stdout)} >= {"team-a", "team-b"}


def every_row(database_url: str) -> str:
    """Every row of every table of the service, as text: what a dump of its data would hold."""
    with psycopg.connect(database_url) as connection:
        tables = connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema = 'images'"
        ).fetchall()
        return "\n".join(
            f"{table}: " + str(connection.execute(f"SELECT string_agg(t::text, '|') FROM {table} t").fetchone()[0])
            for (table,) in tables
        )
