"""The queue takes turns across tenants and requests, on a real PostgreSQL: no upload is stuck behind another.

The rule lives only in the claim's statement (`adapters/postgres/jobs.py`); these are its tests. The unit fakes claim
first due first, within the download room."""

import io
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text

from imgopt.adapters.postgres.jobs import HEAD_START
from imgopt.application.use_cases.claiming import EXPANSION_SLICE, ClaimImages
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import StoredImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import RequestStatus
from imgopt.domain.tenancy import ANONYMOUS_TENANT_ID
from tests.support import claim_in_lockstep, csv_bytes
from tests.unit.fakes import FixedClock

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def upload(container, name: str, products: int, urls: int = 1, tenant=ANONYMOUS_TENANT_ID):
    rows = (
        f'{n},{name}{n},"' + ",".join(f"https://{name}.example/{n}/{u}.jpg" for u in range(urls)) + '"'
        for n in range(1, products + 1)
    )
    return container.use_cases.ingest_csv()(tenant, io.BytesIO(csv_bytes(*rows))).request_id


def tenant(container, name: str):
    return container.use_cases.create_api_key()(name, "tests").key.tenant_id


def make_jobs(container, request_id) -> None:
    """The jobs of every product of the request, as a claim that finds it short of jobs makes them."""
    with container.persistence.uow() as uow:
        request = uow.requests.get_for_update(request_id, None)
        request.expanded_through(uow.jobs.add_for(request, request.last_line, NOW), NOW)
        uow.requests.save(request)
        uow.commit()


def claimer(container, worker: str = "w1") -> ClaimImages:
    return ClaimImages(container.persistence.uow, FixedClock(NOW), worker, timedelta(minutes=5))


def record_all(container, jobs, worker: str = "w1") -> None:
    use_cases = container.use_cases
    record = RecordOutcomes(
        container.persistence.uow, FixedClock(NOW), worker, use_cases.announcer(), use_cases.webhook_work()
    )
    record(
        [
            job.succeeded(StoredImage(f"{job.id}.jpg", "http://x/y.jpg", ImageResult("image/jpeg", 10, 5, 1, 1)))
            for job in jobs
        ]
    )


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
    head_starts = claimer(container)(HEAD_START), claimer(container)(HEAD_START)

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


def test_a_new_request_goes_first_with_what_is_left_of_its_head_start(container):
    big = upload(container, "big", 80)
    for limit in (40, 30):  # past its head start: 70 done
        record_all(container, claimer(container)(limit))
    claimer(container)(8)  # and 8 in flight
    small = upload(container, "small", 10)
    make_jobs(container, small)
    first = claimer(container)(4)
    record_all(container, first[:3])  # 3 done, 1 in flight

    second = claimer(container)(4)

    requests = {big: "big", small: "small"}
    assert names(first, requests) == names(second, requests) == ["small"] * 4


def test_past_their_head_start_the_one_with_fewer_in_flight_catches_up_and_ties_go_to_the_oldest(container):
    big, other = upload(container, "big", 300), upload(container, "other", 300)
    for _ in range(2):
        record_all(container, claimer(container)(HEAD_START))
    shared = claimer(container)(8)
    record_all(container, [job for job in shared if job.request_id == other])  # big 4 in flight, other none

    catching_up, even = claimer(container)(4), claimer(container)(2)

    requests = {big: "big", other: "other"}
    assert Counter(names(shared, requests)) == {"big": 4, "other": 4}
    assert names(catching_up, requests) == ["other"] * 4
    assert names(even, requests) == ["big", "other"]  # 4 in flight each: the oldest first


def test_requests_within_their_head_start_go_by_what_they_have_had(container):
    first = upload(container, "first", 20)
    claimer(container)(8)  # 8 in flight
    second = upload(container, "second", 3)
    make_jobs(container, second)
    record_all(container, claimer(container)(2))  # 2 done, 1 due
    third = upload(container, "third", 1)
    make_jobs(container, third)

    claimed = claimer(container)(4)

    assert names(claimed, {first: "first", second: "second", third: "third"}) == ["third", "second", "first", "first"]


def test_a_small_upload_of_another_tenant_takes_turns_with_a_big_one_instead_of_waiting_for_it(container):
    a, b = tenant(container, "team-a"), tenant(container, "team-b")
    upload(container, "big", 200, tenant=a)
    claimer(container)(4)  # A's upload is under way: some of its jobs exist and wait
    small = upload(container, "small", 2, tenant=b)
    claimer(container)(4)  # four more of A's; it finds B's upload short of jobs and makes them

    claimed = claimer(container)(4)

    assert sum(job.request_id == small for job in claimed) == 2


def test_the_tenant_with_fewer_images_in_flight_goes_first_and_then_the_other_again(container):
    a, b = tenant(container, "team-a"), tenant(container, "team-b")
    upload(container, "big", 200, tenant=a)
    claimer(container)(4)
    small = upload(container, "small", 10, tenant=b)
    claimer(container)(1)  # a fifth of A's; it finds B's upload short of jobs and makes them

    first, then = claimer(container)(6), claimer(container)(4)

    # B has none in flight: all six are B's; then A, with 5 in flight to B's 6, goes first again.
    assert [job.request_id == small for job in first] == [True] * 6
    assert [job.request_id == small for job in then] == [False] * 4


def test_a_small_upload_is_done_within_two_claims_while_a_big_one_is_being_processed(container):
    big = upload(container, "big", 100)
    for _ in range(3):
        record_all(container, claimer(container)(4))
    small = upload(container, "small", 2)

    for _ in range(2):  # the first finds the small upload short of jobs and makes them
        record_all(container, claimer(container)(4))

    reader = container.persistence.status_reader()
    assert reader.summary(small, ANONYMOUS_TENANT_ID).status is RequestStatus.COMPLETED
    assert reader.summary(big, ANONYMOUS_TENANT_ID).images.optimized == 18


def test_a_claim_gives_no_tenant_more_than_its_room_in_the_workers_downloads(container):
    a, b = tenant(container, "team-a"), tenant(container, "team-b")
    first, second = upload(container, "a", 20, tenant=a), upload(container, "b", 20, tenant=b)
    make_jobs(container, first)
    make_jobs(container, second)
    room = DownloadRoom(per_tenant=3, downloading={a: 2})

    claimed = claimer(container)(8, room)

    assert Counter(names(claimed, {first: "a", second: "b"})) == {"a": 1, "b": 3}


def test_a_claim_that_fills_its_tenants_room_asks_the_queue_once(container, clean_database):
    request = upload(container, "a", 20)
    make_jobs(container, request)
    rounds = []

    def count(conn, cursor, statement, *args) -> None:
        rounds.extend(["claim"] if "CROSS JOIN LATERAL" in statement else [])

    event.listen(clean_database, "before_cursor_execute", count)
    try:
        claimed = claimer(container)(8, DownloadRoom(per_tenant=4, downloading={ANONYMOUS_TENANT_ID: 1}))
    finally:
        event.remove(clean_database, "before_cursor_execute", count)

    assert len(claimed) == 3
    assert rounds == ["claim"]  # a second round could give that tenant nothing
