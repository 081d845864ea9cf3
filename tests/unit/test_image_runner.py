"""The image runner on the fakes: what it holds when its worker dies, and what it keeps while the database is away."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from imgopt.adapters.metrics.registry import new_registry
from imgopt.adapters.metrics.worker import WorkerMetrics
from imgopt.application.ports import FetchedImage, NotModified, Unavailable
from imgopt.application.use_cases.claiming import ClaimImages, ExtendLeases
from imgopt.application.use_cases.processing import ProcessImage
from imgopt.application.use_cases.recording import RecordOutcomes
from imgopt.domain.image_jobs import ImageOutcome
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.origins import OriginLimits
from imgopt.domain.sources import Validators
from imgopt.entrypoints.worker.batch import OutcomeBatch
from imgopt.entrypoints.worker.images import ImageRunner, ImageRunnerOptions
from tests.support import wait_for
from tests.unit.fakes import FakeFetcher, FakeOptimizer, FixedClock
from tests.unit.world import TENANT_B, World

JPEG = b"\xff\xd8\xff" + b"x" * 97
URLS = [f"https://o.example/{n}.jpg" for n in range(1, 7)]


class GatedFetcher(FakeFetcher):
    """Each download waits until its URL's gate opens; `started` lists the downloads begun."""

    def __init__(self) -> None:
        super().__init__(dict.fromkeys(URLS, JPEG))
        self.gates = {url: threading.Event() for url in URLS}
        self.started: list[str] = []

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        self.started.append(url)
        self.gates[url].wait(30)
        return super().fetch(url, known)


class Outage:
    """A unit-of-work factory that raises Unavailable while `down` is set, as the PostgreSQL adapter does."""

    def __init__(self, world: World) -> None:
        self._world = world
        self.down = False

    def __call__(self):
        if self.down:
            raise Unavailable("the database is unavailable: connection refused")
        return self._world.db.unit_of_work()


@pytest.fixture
def setup():
    world = World(FixedClock(datetime.now(UTC)))
    receipt = world.upload(*(f"{n},P{n},{url}" for n, url in enumerate(URLS, start=1)))
    fetcher, outage = GatedFetcher(), Outage(world)
    process = ProcessImage(fetcher, FakeOptimizer(), world.storage, world.clock, world.retry, world.random)

    def runner(
        worker_id: str,
        concurrency: int = 1,
        downloads: int = 2,
        tenant_downloads: int | None = None,
        metrics: WorkerMetrics | None = None,
        lease: timedelta = timedelta(seconds=30),
        claim_through: Callable[[ClaimImages], Callable] = lambda claim: claim,
    ) -> ImageRunner:
        return ImageRunner(
            claim_through(ClaimImages(outage, world.clock, worker_id, lease)),
            process,
            RecordOutcomes(outage, world.clock, worker_id, world.announcer, world.webhook_work),
            world.release,
            ExtendLeases(outage, world.clock, worker_id, lease),
            ImageRunnerOptions(concurrency, downloads, tenant_downloads or downloads),
            metrics or WorkerMetrics(new_registry()),
        )

    yield world, receipt.request_id, fetcher, outage, runner
    for gate in fetcher.gates.values():
        gate.set()


def jobs(world: World) -> dict[str, dict]:
    return {job["url"]: job for job in world.db.snapshot().jobs.values()}


def test_a_worker_that_dies_charges_an_attempt_only_to_the_images_it_had_started(setup):
    world, request_id, fetcher, _, runner = setup
    doomed, stop = runner("doomed"), threading.Event()
    thread = threading.Thread(target=doomed.drain, args=(stop,))
    thread.start()
    wait_for(lambda: len(fetcher.started) == 2, message="both threads to start an image")

    world.clock.advance(seconds=31)  # the doomed worker is gone; its leases run out
    world.reclaim()
    attempts = {url: job["attempts"] for url, job in jobs(world).items()}
    stop.set()  # the test's runner still runs: let it end before the next test
    for gate in fetcher.gates.values():
        gate.set()
    thread.join(30)

    started = set(fetcher.started)
    assert {url for url, count in attempts.items() if count} == started
    assert all(attempts[url] == 1 for url in started)


def test_a_live_worker_extends_the_lease_of_images_that_wait_longer_than_the_lease(setup):
    world, _, fetcher, _, runner = setup
    patient, stop = runner("patient", lease=timedelta(seconds=0.3)), threading.Event()
    thread = threading.Thread(target=patient.drain, args=(stop,))
    thread.start()
    wait_for(lambda: len(fetcher.started) == 2, message="both threads to start an image")

    reclaimed = []
    for _ in range(4):  # 0.8 s of the clock: past the first lease, twice over
        world.clock.advance(seconds=0.2)
        wait_for(
            lambda: all(job["lease_until"] > world.clock.now() for job in jobs(world).values() if job["claimed_by"]),
            message="the runner to extend its leases",
        )
        reclaimed.append(world.reclaim())
    stop.set()
    for gate in fetcher.gates.values():
        gate.set()
    thread.join(30)

    assert reclaimed == [0, 0, 0, 0]
    assert all(jobs(world)[url]["attempts"] == 1 for url in fetcher.started)


def test_results_finished_while_the_database_was_away_are_recorded_when_it_returns(setup):
    world, request_id, fetcher, outage, runner = setup
    worker = runner("w1")
    errors: list[BaseException] = []

    def drain() -> None:
        try:
            worker.drain(threading.Event())
        except Unavailable as error:
            errors.append(error)

    first = threading.Thread(target=drain)
    first.start()
    wait_for(lambda: len(fetcher.started) == 2, message="two images in flight")
    outage.down = True
    fetcher.gates[fetcher.started[0]].set()  # one finishes while the database is away, the other is still running
    first.join(30)
    fetcher.gates[fetcher.started[1]].set()
    outage.down = False
    for gate in fetcher.gates.values():
        gate.set()
    recorded = worker.drain(threading.Event())

    assert [str(error) for error in errors] == ["the database is unavailable: connection refused"]
    assert recorded == 6
    summary = world.status(request_id).summary
    assert (summary.status, summary.images.optimized) == (RequestStatus.COMPLETED, 6)
    assert {job["status"] for job in jobs(world).values()} == {ImageStatus.OPTIMIZED}
    assert {job["attempts"] for job in jobs(world).values()} == {1}
    assert sorted(fetcher.fetched) == sorted(URLS)


def test_images_a_lost_claim_answer_leased_are_handed_back_by_the_next_claim_without_an_attempt(setup):
    """The database went away as a claim committed: the claim took effect, its answer never came."""
    world, request_id, fetcher, _, runner = setup
    answers_lost = [True]

    def losing_its_first_answer(claim: ClaimImages) -> Callable:
        def claim_losing_its_first_answer(*args):
            jobs = claim(*args)
            if answers_lost.pop() if answers_lost else False:
                raise Unavailable("the database is unavailable: server closed the connection unexpectedly")
            return jobs

        return claim_losing_its_first_answer

    worker = runner("w1", claim_through=losing_its_first_answer)
    with pytest.raises(Unavailable):
        worker.drain(threading.Event())
    leased_unheard_of = {url: job["attempts"] for url, job in jobs(world).items() if job["claimed_by"] == "w1"}
    for gate in fetcher.gates.values():
        gate.set()
    recorded = worker.drain(threading.Event())

    assert leased_unheard_of == dict.fromkeys(URLS[:2], 1)
    assert recorded == 6
    assert world.status(request_id).summary.status is RequestStatus.COMPLETED
    assert {job["attempts"] for job in jobs(world).values()} == {1}  # not 2: no lease had to run out


def test_claims_wait_until_as_many_download_threads_are_idle_as_optimize_at_once(setup):
    world, request_id, fetcher, _, runner = setup
    registry = new_registry()
    worker, stop = runner("w1", concurrency=2, downloads=4, metrics=WorkerMetrics(registry)), threading.Event()
    thread = threading.Thread(target=worker.drain, args=(stop,))
    thread.start()
    wait_for(lambda: len(fetcher.started) == 4, message="all four download threads to start an image")

    def in_flight() -> float | None:
        return registry.get_sample_value("imgopt_worker_images_in_flight")

    fetcher.gates[fetcher.started[0]].set()
    wait_for(lambda: in_flight() == 3, message="the runner to collect the first image")
    started_with_one_idle = len(fetcher.started)
    fetcher.gates[fetcher.started[1]].set()
    wait_for(lambda: len(fetcher.started) == 6, message="a claim once two threads are idle")
    for gate in fetcher.gates.values():
        gate.set()
    thread.join(30)

    assert started_with_one_idle == 4
    assert world.status(request_id).summary.images.optimized == 6
    assert {job["attempts"] for job in jobs(world).values()} == {1}


def outcome(request_id: UUID) -> ImageOutcome:
    return ImageOutcome(1, request_id, 2, ImageStatus.OPTIMIZED, 1)


def test_an_outcome_that_may_finish_its_request_is_written_at_once_while_others_run():
    batch = OutcomeBatch(lambda outcomes: outcomes, max_wait=60, observe=lambda recorded: None)

    batch.add(outcome(UUID(int=1)), finishing=True)

    assert batch.due(idle=False)


def test_other_outcomes_wait_for_their_group_while_images_run():
    batch = OutcomeBatch(lambda outcomes: outcomes, max_wait=60, observe=lambda recorded: None)

    batch.add(outcome(UUID(int=2)))

    assert not batch.due(idle=False)
    assert batch.due(idle=True)


def test_one_tenants_downloads_take_no_more_than_its_share_of_the_download_threads(setup):
    world, _, fetcher, _, runner = setup
    other = world.acting_as(TENANT_B)
    quick = "https://o.example/quick.jpg"
    fetcher.images[quick], fetcher.gates[quick] = JPEG, threading.Event()
    fetcher.gates[quick].set()
    other_request = other.upload(f"1,Q,{quick}").request_id
    worker, stop = runner("w1", concurrency=1, downloads=4, tenant_downloads=2), threading.Event()
    thread = threading.Thread(target=worker.drain, args=(stop,))
    thread.start()

    wait_for(lambda: other.status(other_request).summary.finished, message="the other tenant's image to finish")
    started_by_then = [url for url in fetcher.started if url in URLS]
    for gate in fetcher.gates.values():
        gate.set()
    thread.join(30)

    assert len(started_by_then) == 2  # the first tenant's six wait on their origin two at a time


def test_after_a_claim_its_tenants_room_cut_short_the_next_waits_for_a_group_to_end(setup):
    world, request_id, fetcher, _, runner = setup
    registry = new_registry()
    worker = runner("w1", concurrency=2, downloads=4, tenant_downloads=3, metrics=WorkerMetrics(registry))
    stop = threading.Event()
    thread = threading.Thread(target=worker.drain, args=(stop,))
    thread.start()
    wait_for(lambda: len(fetcher.started) == 3, message="the tenant's three downloads to start")

    def in_flight() -> float | None:
        return registry.get_sample_value("imgopt_worker_images_in_flight")

    fetcher.gates[fetcher.started[0]].set()
    wait_for(lambda: in_flight() == 2, message="the runner to collect the first image")
    started_after_one = len(fetcher.started)  # one place in the room: not worth a claim yet
    fetcher.gates[fetcher.started[1]].set()
    wait_for(lambda: len(fetcher.started) == 5, message="a claim of two once two images ended")
    for gate in fetcher.gates.values():
        gate.set()
    thread.join(30)

    assert started_after_one == 3
    assert world.status(request_id).summary.images.optimized == 6


def optimized_once(world: World, fetcher: FakeFetcher, urls: list[str]) -> tuple[list[str], ProcessImage]:
    """A catalogue of `urls` uploaded and every image optimized and recorded once: its rows, to upload again."""
    rows = [f"{n},P{n},{url}" for n, url in enumerate(urls, start=1)]
    world.upload(*rows)
    process = ProcessImage(fetcher, FakeOptimizer(), world.storage, world.clock, world.retry, world.random)
    assert len(world.record([process(job) for job in world.claim(len(urls))])) == len(urls)
    return rows, process


class OverlapFetcher(FakeFetcher):
    """Counts the fetches in progress at once; each waits (up to half a second) for `cap` to be in progress, so
    a runner that would start more than `cap` of one origin at once gets the chance to."""

    def __init__(self, images: dict[str, bytes], cap: int) -> None:
        super().__init__(images, {url: f'"{n}"' for n, url in enumerate(images)})
        self._cap, self._now, self.most = cap, 0, 0
        self._changed = threading.Condition()
        self.armed = False  # until then no fetch waits for others

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        with self._changed:
            self._now += 1
            self.most = max(self.most, self._now)
            self._changed.notify_all()
            self._changed.wait_for(lambda: not self.armed or self._now >= self._cap, timeout=0.5)
        try:
            return super().fetch(url, known)
        finally:
            with self._changed:
                self._now -= 1


def test_a_re_upload_is_claimed_in_groups_and_asked_of_its_origin_no_more_than_its_slots_at_once():
    urls = [f"https://o.example/r/{n}.jpg" for n in range(24)]
    world = World(FixedClock(datetime.now(UTC)))
    fetcher = OverlapFetcher(dict.fromkeys(urls, JPEG), cap=2)
    rows, process = optimized_once(world, fetcher, urls)
    second = world.upload(*rows).request_id
    claim, claims = world.claim, []

    def counted(*args):
        claims.append(len(jobs := claim(*args)))
        return jobs

    registry, gauges = new_registry(), []
    fetch = fetcher.fetch

    def watched(url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        gauges.append(
            tuple(
                map(
                    registry.get_sample_value, ("imgopt_worker_images_in_flight", "imgopt_worker_revalidations_waiting")
                )
            )
        )
        return fetch(url, known)

    fetcher.fetch = watched
    options = ImageRunnerOptions(1, 6, 3, revalidation_group=8, origin_limits=OriginLimits(2))
    runner = ImageRunner(
        counted,
        process,
        world.record,
        world.release,
        ExtendLeases(world.db.unit_of_work, world.clock, claim.worker_id, timedelta(seconds=30)),
        options,
        WorkerMetrics(registry),
    )
    fetcher.armed = True
    recorded = runner.drain(threading.Event())
    runner.close()

    assert recorded == 24
    # Images on threads never read above the threads; a group's others are counted apart while they wait.
    assert max(on_threads for on_threads, _ in gauges) <= options.capacity
    assert max(waiting for _, waiting in gauges) >= 4
    assert fetcher.most == 2  # the origin's two slots, both used, never a third
    assert claims[0] == 3 and max(claims) == 8  # a first claim of the tenant's room, then groups
    assert len([size for size in claims if size]) <= 5
    details = world.status(second, details=True).details
    assert all(image.reused for product in details.products for image in product.images)


def test_a_runner_stopping_amid_a_group_records_what_it_began_and_hands_back_the_rest_uncounted():
    urls = [f"https://o.example/s/{n}.jpg" for n in range(24)]
    world = World(FixedClock(datetime.now(UTC)))
    fetcher = FakeFetcher(dict.fromkeys(urls, JPEG), {url: f'"{n}"' for n, url in enumerate(urls)})
    rows, process = optimized_once(world, fetcher, urls)
    second = world.upload(*rows).request_id
    gate, started = threading.Event(), []

    class Gated(FakeFetcher):
        def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
            started.append(url)
            gate.wait(30)
            return fetcher.fetch(url, known)

    gated = ProcessImage(Gated({}), FakeOptimizer(), world.storage, world.clock, world.retry, world.random)
    options = ImageRunnerOptions(1, 6, 3, revalidation_group=8, origin_limits=OriginLimits(2))
    lease = timedelta(seconds=30)
    runner = ImageRunner(
        world.claim, gated, world.record, world.release,
        ExtendLeases(world.db.unit_of_work, world.clock, world.claim.worker_id, lease), options,
        WorkerMetrics(new_registry()),
    )  # fmt: skip
    first = ImageRunner(
        world.claim, process, world.record, world.release,
        ExtendLeases(world.db.unit_of_work, world.clock, world.claim.worker_id, lease),
        ImageRunnerOptions(1, 6, 3, revalidation_group=8, origin_limits=OriginLimits(2)), WorkerMetrics(new_registry()),
    )  # fmt: skip
    stop = threading.Event()
    # A first claim (three, the tenant's room) puts the runner in groups; it claims a group, and stops.
    thread = threading.Thread(target=runner.drain, args=(stop,))
    thread.start()
    wait_for(lambda: len(started) == 2, message="the origin's two threads to begin a revalidation each")
    stop.set()
    gate.set()
    thread.join(30)
    mine = [job for job in world.db.snapshot().jobs.values() if job["request_id"] == second]
    first.drain(threading.Event())
    first.close()
    runner.close()

    assert len(started) == 2  # nothing begun after the stop
    done = [job for job in mine if job["status"] is ImageStatus.OPTIMIZED]
    assert [job["attempts"] for job in done] == [1, 1]
    back = [job for job in mine if job["status"] is ImageStatus.PENDING]
    assert len(back) == 22 and {(job["attempts"], job["claimed_by"]) for job in back} == {(0, None)}
    assert world.status(second).summary.status is RequestStatus.COMPLETED


def test_while_a_tenants_revalidations_wait_on_its_stalled_origin_another_tenants_upload_is_done():
    urls = [f"https://slow.example/{n}.jpg" for n in range(40)]
    world = World(FixedClock(datetime.now(UTC)))
    quick = [f"https://quick.example/{n}.jpg" for n in range(8)]
    fetcher = FakeFetcher(dict.fromkeys(urls + quick, JPEG), {url: f'"{n}"' for n, url in enumerate(urls)})
    rows, process = optimized_once(world, fetcher, urls)
    stalled, started = threading.Event(), []

    class Stalling(FakeFetcher):
        def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
            started.append(url)
            if url.startswith("https://slow."):
                stalled.wait(30)
            return fetcher.fetch(url, known)

    stalling = ProcessImage(Stalling({}), FakeOptimizer(), world.storage, world.clock, world.retry, world.random)
    extend = ExtendLeases(world.db.unit_of_work, world.clock, world.claim.worker_id, timedelta(seconds=30))
    options = ImageRunnerOptions(1, 6, 3, revalidation_group=8, origin_limits=OriginLimits(2))
    runner = ImageRunner(
        world.claim, stalling, world.record, world.release, extend, options, WorkerMetrics(new_registry())
    )
    world.upload(*rows)
    stop = threading.Event()
    thread = threading.Thread(target=runner.drain, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: len(started) == 2, message="the slow origin's two threads to begin")
        other = world.acting_as(TENANT_B)
        request = other.upload(*(f"{n},Q{n},{url}" for n, url in enumerate(quick, start=1))).request_id
        wait_for(lambda: other.status(request).summary.finished, timeout=10, message="the other tenant's upload")
        slow_begun = len([url for url in started if url.startswith("https://slow.")])
    finally:
        stop.set()
        stalled.set()
        thread.join(30)
        runner.close()

    assert other.status(request).summary.status is RequestStatus.COMPLETED
    assert slow_begun == 2  # the stalled origin's two slots, and nothing more of it begun


def test_a_re_upload_is_claimed_in_whole_groups_once_every_image_claimed_is_on_a_thread():
    urls = [f"https://o.example/w/{n}.jpg" for n in range(67)]
    world = World(FixedClock(datetime.now(UTC)))
    fetcher = FakeFetcher(dict.fromkeys(urls, JPEG), {url: f'"{n}"' for n, url in enumerate(urls)})
    rows, process = optimized_once(world, fetcher, urls)
    world.upload(*rows)
    started, changed = [], threading.Condition()

    class OneChainHeld(FakeFetcher):
        """The chain that asks for the twelfth image waits there until fifty have begun: the origin's other
        thread meanwhile takes chain after chain, so the runner claims while one of its two chains runs."""

        def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
            with changed:
                started.append(url)
                changed.notify_all()
                if url == urls[11]:
                    changed.wait_for(lambda: len(started) >= 50, timeout=10)
            return fetcher.fetch(url, known)

    held = ProcessImage(OneChainHeld({}), FakeOptimizer(), world.storage, world.clock, world.retry, world.random)
    claim, claims = world.claim, []

    def counted(*args):
        claims.append(len(jobs := claim(*args)))
        return jobs

    extend = ExtendLeases(world.db.unit_of_work, world.clock, claim.worker_id, timedelta(seconds=30))
    options = ImageRunnerOptions(1, 6, 3, revalidation_group=8, origin_limits=OriginLimits(2))
    runner = ImageRunner(counted, held, world.record, world.release, extend, options, WorkerMetrics(new_registry()))

    recorded = runner.drain(threading.Event())
    runner.close()

    assert recorded == 67 and len(started) == 67
    # The tenant's room (three) first, then 64 in groups of 8. Claimed once half the last group had begun, for
    # what was missing, they came in halves: twice the transactions.
    assert [size for size in claims if size] == [3] + [8] * 8
