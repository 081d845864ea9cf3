"""Retention on the fakes: finished requests older than the period go, outputs first; nothing else does."""

from datetime import timedelta

import pytest

from imgopt.application.ports import StorageFailed
from imgopt.domain.durations import parse_duration
from tests.unit.world import World

JPEG = b"\xff\xd8\xff" + b"x" * 97


@pytest.fixture
def w() -> World:
    return World(images={f"https://o.example/{n}.jpg": JPEG for n in range(1, 10)})


def test_finished_requests_older_than_the_period_are_purged_in_batches_outputs_and_rows(w):
    old = [w.upload(f"1,P,https://o.example/{n}.jpg") for n in (1, 2, 3)]
    w.process()
    w.clock.advance(days=31)
    recent = w.upload("1,P,https://o.example/4.jpg")
    w.process()
    unfinished = w.upload("1,P,https://o.example/5.jpg")

    purged = w.purge(timedelta(days=30))

    assert purged == 3
    assert set(w.db.state.requests) == {recent.request_id, unfinished.request_id}
    assert [key.split("/")[0] for key in w.storage.files] == [str(recent.request_id)]
    assert all(w.db.state.jobs_of(receipt.request_id) == [] for receipt in old)


def test_storage_that_refuses_keeps_the_rows_for_the_next_run(w):
    receipt = w.upload("1,P,https://o.example/1.jpg")
    w.process()
    w.clock.advance(days=2)
    w.storage.failing = True

    with pytest.raises(StorageFailed):
        w.purge(timedelta(days=1))
    w.storage.failing = False
    purged = w.purge(timedelta(days=1))

    assert purged == 1 and receipt.request_id not in w.db.state.requests and w.storage.files == {}


@pytest.mark.parametrize(("text", "seconds"), [("30d", 2_592_000), ("12h", 43_200), ("90m", 5_400), ("45", 45)])
def test_periods_are_written_as_people_write_them(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "thirty days", "30w", "-1d"])
def test_a_period_that_is_not_one_says_how_to_write_it(text):
    with pytest.raises(ValueError, match="write it like"):
        parse_duration(text)
