"""The queue takes turns across requests, on a real PostgreSQL: no upload is stuck behind another."""

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from imgopt.application.use_cases.claiming import EXPANSION_SLICE, ClaimImages
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.image_jobs import StoredImage
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from imgopt.domain.turns import Turns
from tests.support import claim_in_lockstep, csv_bytes
from tests.unit.fakes import FixedClock

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def upload(container, name: str, products: int, urls: int = 1):
    rows = (
        f'{n},{name}{n},"' + ",".join(f"https://{name}.example/{n}/{u}.jpg" for u in range(urls)) + '"'
        for n in range(1, products + 1)
    )
    return container.use_cases.ingest_csv()(ANONYMOUS_TENANT_ID, io.BytesIO(csv_bytes(*rows))).request_id


def claimer(container, worker: str = "w1") -> ClaimImages:
    return ClaimImages(container.persistence.uow, FixedClock(NOW), worker, timedelta(minutes=5))


def record_all(container, jobs, worker: str = "w1") -> None:
    use_cases = container.use_cases
    record = RecordOutcomes(
        container.persistence.uow, FixedClock(NOW), worker, use_cases.announcer(), use_cases.webhook_work()
    )
    record([job.succeeded(StoredImage(f"{job.id}.jpg", "http://x/y.jpg", "image/jpeg", 10, 5, 1, 1)) for job in jobs])


def names(jobs, requests: dict) -> list[str]:
    return [requests[job.request_id] for job in jobs]


def jobs_per_request(engine) -> dict:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT request_id, count(*) FROM images.optimizerjobs GROUP BY request_id"))
        return dict(rows.all())


def test_claims_take_turns_between_the_requests_waiting(container):
    big, small = upload(container, "big", 100), upload(container, "small", 10)

    first, second = claimer(container)(4), claimer(container)(4)

    requests = {big: "big", small: "small"}
    assert [Counter(names(first, requests)), Counter(names(second, requests))] == [{"big": 4}, {"small": 4}]


def test_requests_past_their_head_start_share_a_claim(container):
    big, other = upload(container, "big", 300), upload(container, "other", 300)
    head_starts = claimer(container)(Turns().head_start), claimer(container)(Turns().head_start)

    jobs = claimer(container)(8)

    requests = {big: "big", other: "other"}
    assert [set(names(claimed, requests)) for claimed in head_starts] == [{"big"}, {"other"}]
    assert Counter(names(jobs, requests)) == {"big": 4, "other": 4}


def test_the_request_with_the_fewest_images_in_flight_goes_first(container):
    big = upload(container, "big", 100)
    claimer(container)(6)
    small = upload(container, "small", 10)
    claimer(container)(1)  # one more of the big one's; it finds the small one short of jobs and makes them

    turns = [job for _ in range(3) for job in claimer(container)(1)]

    assert names(turns, {big: "big", small: "small"}) == ["small", "small", "small"]


def test_a_small_upload_is_claimed_from_the_claim_after_it_arrives_while_a_big_one_is_being_processed(container):
    big = upload(container, "big", 500, urls=2)
    for _ in range(5):
        record_all(container, claimer(container)(8))
    in_flight = claimer(container)(8)
    small = upload(container, "small", 3, urls=2)

    first, second, third = claimer(container)(4), claimer(container)(4), claimer(container)(4)

    requests = {big: "big", small: "small"}
    counts = [Counter(names(claimed, requests)) for claimed in (first, second, third)]
    assert counts == [{"big": 4}, {"small": 4}, {"small": 2, "big": 2}]
    assert "small" not in names(in_flight, requests)


def test_every_request_short_of_jobs_gets_its_next_products_not_only_the_oldest(container, clean_database):
    big, small = upload(container, "big", 2 * EXPANSION_SLICE), upload(container, "small", 3, urls=2)

    claimer(container)(2)

    assert jobs_per_request(clean_database) == {big: EXPANSION_SLICE, small: 6}


def test_a_request_gets_its_next_products_only_when_it_runs_short_of_jobs_due(container, clean_database):
    big = upload(container, "big", 3 * EXPANSION_SLICE)
    created = []

    for _ in range(3):
        claimer(container)(1)
        created.append(jobs_per_request(clean_database)[big])

    # A slice made, one claimed: the rest is short of a slice; two made, two claimed: plenty.
    assert created == [EXPANSION_SLICE, 2 * EXPANSION_SLICE, 2 * EXPANSION_SLICE]


def test_several_workers_claiming_at_once_claim_every_job_of_every_request_exactly_once(container, clean_database):
    for name, products in (("a", 60), ("b", 25), ("c", 5)):
        upload(container, name, products, urls=2)

    # 4 workers x 15 rounds x 5 jobs > 180: the queue runs dry
    claimed = claim_in_lockstep({f"w{n}": claimer(container, f"w{n}") for n in range(4)}, 15, 5)

    every = [job for jobs in claimed.values() for job in jobs]
    assert len(every) == len(set(every)) == 180
    assert all(claimed.values())


def test_a_claim_turns_products_into_jobs_for_no_more_requests_than_it_takes_images(container, clean_database):
    uploads = [upload(container, f"u{n}", 3) for n in range(5)]
    expanded = []

    for _ in range(2):
        claimer(container)(2)
        expanded.append(set(jobs_per_request(clean_database)))

    assert expanded == [set(uploads[:2]), set(uploads[:4])]


def test_a_claim_marks_the_jobs_that_take_the_last_images_of_their_request(container):
    big, small = upload(container, "big", 300), upload(container, "small", 2, urls=2)
    claimer(container)(2)  # makes the jobs of both, takes two of the big one's

    jobs = claimer(container)(8)

    requests = {big: "big", small: "small"}
    assert {(requests[job.request_id], job.finishing) for job in jobs} == {("big", False), ("small", True)}
