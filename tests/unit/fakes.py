"""Hand-written fakes of the ports: in-memory, transactional enough to show what a commit keeps."""

import copy
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from imgopt.application.ports import (
    Clock,
    DeliveryRepository,
    FetchedImage,
    FetchFailed,
    IdGenerator,
    ImageFetcher,
    ImageJobRepository,
    ImageOptimizer,
    ImageStorage,
    OptimizedImage,
    OptimizeFailed,
    ProductRepository,
    RequestRepository,
    UnitOfWork,
    UnsafeUrl,
    UrlPolicy,
    WebhookRepository,
    WebhookSender,
)
from imgopt.domain.lifecycle import ImageStatus, RequestStatus
from imgopt.domain.model import ImageFailure, ImageJob, ImageOutcome, UploadRequest
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.plain_csv import NotPlain, PlainCsv
from imgopt.domain.product_csv import ProductRow
from imgopt.domain.status import ImageCounts, ImageDetail, ProductCounts, ProductDetail, StatusSummary
from imgopt.domain.webhooks import AttemptResult, Delivery, Webhook


@dataclass
class State:
    requests: dict[UUID, UploadRequest] = field(default_factory=dict)
    products: dict[UUID, list[ProductRow]] = field(default_factory=dict)
    jobs: dict[int, dict] = field(default_factory=dict)
    webhooks: dict[UUID, Webhook] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    attempts: dict[str, list[AttemptResult]] = field(default_factory=dict)


class FakeRequests(RequestRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, request: UploadRequest) -> None:
        self.state.requests[request.id] = copy.copy(request)

    def get(self, request_id: UUID) -> UploadRequest | None:
        request = self.state.requests.get(request_id)
        return copy.copy(request) if request else None

    get_for_update = get

    def save(self, request: UploadRequest) -> None:
        self.state.requests[request.id] = copy.copy(request)

    def summary(self, request_id: UUID) -> StatusSummary | None:
        request = self.state.requests.get(request_id)
        if request is None:
            return None
        jobs = [job for job in self.state.jobs.values() if job["request_id"] == request_id]
        count = lambda status: sum(1 for job in jobs if job["status"] is status)  # noqa: E731
        details = list(FakeProducts(self.state).details(request_id))
        finished = [p for p in details if p.status.is_terminal]
        return StatusSummary(
            request_id=request.id,
            status=request.status,
            options=request.options,
            created_at=request.created_at,
            started_at=request.started_at,
            finished_at=request.finished_at,
            products=ProductCounts(
                request.product_count,
                len(finished),
                sum(1 for p in finished if p.status is not RequestStatus.COMPLETED),
            ),
            images=ImageCounts(
                request.image_count,
                count(ImageStatus.PROCESSING),
                count(ImageStatus.OPTIMIZED),
                count(ImageStatus.FAILED),
            ),
            bytes_in=sum(job["output"].bytes_in for job in jobs if job["output"]),
            bytes_out=sum(job["output"].bytes_out for job in jobs if job["output"]),
        )


class FakeProducts(ProductRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add_many(self, request_id: UUID, rows: Iterable[ProductRow]) -> None:
        self.state.products.setdefault(request_id, []).extend(rows)

    def add_plain(self, request_id: UUID, csv: PlainCsv) -> bool:
        try:
            rows = [row for block in csv for row in block.product_rows()]
        except NotPlain:
            return False
        if len({row.serial for row in rows}) < len(rows):
            return False
        self.add_many(request_id, rows)
        return True

    def details(self, request_id: UUID) -> Iterator[ProductDetail]:
        jobs = {(j["line"], j["position"]): j for j in self.state.jobs.values() if j["request_id"] == request_id}
        for row in self.state.products.get(request_id, []):
            images = []
            for position, url in enumerate(row.urls):
                job = jobs.get((row.line, position))
                if job is None:
                    images.append(ImageDetail(position, url, ImageStatus.PENDING))
                else:
                    output = job["output"]
                    images.append(
                        ImageDetail(
                            position,
                            url,
                            job["status"],
                            job["attempts"],
                            output_url=output.url if output else None,
                            failure_reason=job["reason"],
                            bytes_in=output.bytes_in if output else None,
                            bytes_out=output.bytes_out if output else None,
                        )
                    )
            yield ProductDetail(row.line, row.serial, row.name, images)


class FakeJobs(ImageJobRepository):
    """Creates every job of a request on its first claim; claims the due ones in id order."""

    def __init__(self, state: State) -> None:
        self.state = state

    def claim(
        self, worker_id: str, limit: int, now: datetime, lease_until: datetime, reclaim_expired: bool = True
    ) -> list[ImageJob]:
        self._expand(now)
        claimed = []
        for job in sorted(self.state.jobs.values(), key=lambda j: j["id"]):
            if len(claimed) == limit:
                break
            due = job["status"] is ImageStatus.PENDING and job["next_attempt_at"] <= now
            expired = reclaim_expired and job["status"] is ImageStatus.PROCESSING and job["lease_until"] < now
            if due or expired:
                job.update(status=ImageStatus.PROCESSING, claimed_by=worker_id, lease_until=lease_until)
                job["attempts"] += 1
                request = self.state.requests[job["request_id"]]
                claimed.append(
                    ImageJob(
                        job["id"],
                        job["request_id"],
                        job["line"],
                        job["position"],
                        job["url"],
                        job["attempts"],
                        request.options,
                    )
                )
        return claimed

    def record(self, worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> list[UUID]:
        touched = set()
        for outcome in outcomes:
            job = self.state.jobs[outcome.job_id]
            if job["status"] is not ImageStatus.PROCESSING or job["claimed_by"] != worker_id:
                continue
            job.update(
                status=outcome.status, reason=outcome.reason, output=outcome.output, claimed_by=None, lease_until=None
            )
            if outcome.next_attempt_at:
                job["next_attempt_at"] = outcome.next_attempt_at
            touched.add(outcome.request_id)
        return sorted(
            request_id
            for request_id in touched
            if all(j["status"].is_terminal for j in self.state.jobs.values() if j["request_id"] == request_id)
            and sum(1 for j in self.state.jobs.values() if j["request_id"] == request_id)
            == self.state.requests[request_id].image_count
        )

    def release(self, worker_id: str, jobs: list[ImageJob]) -> None:
        for released in jobs:
            job = self.state.jobs[released.id]
            if job["claimed_by"] == worker_id and job["status"] is ImageStatus.PROCESSING:
                job.update(status=ImageStatus.PENDING, claimed_by=None, lease_until=None, attempts=released.attempts)

    def _expand(self, now: datetime) -> None:
        for request in self.state.requests.values():
            if any(j["request_id"] == request.id for j in self.state.jobs.values()):
                continue
            for row in self.state.products.get(request.id, []):
                for position, url in enumerate(row.urls):
                    job_id = len(self.state.jobs) + 1
                    self.state.jobs[job_id] = dict(
                        id=job_id, request_id=request.id, line=row.line, position=position, url=url,
                        status=ImageStatus.PENDING, attempts=0, next_attempt_at=now, claimed_by=None,
                        lease_until=None, reason=None, output=None,
                    )  # fmt: skip
            if request.status is RequestStatus.PENDING:
                request.start(now)


class FakeWebhooks(WebhookRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, webhook: Webhook) -> None:
        self.state.webhooks[webhook.id] = webhook

    def get(self, webhook_id: UUID) -> Webhook | None:
        return self.state.webhooks.get(webhook_id)

    def for_request(self, request_id: UUID) -> list[Webhook]:
        return [w for w in self.state.webhooks.values() if w.enabled and w.request_id in (request_id, None)]

    def disable(self, webhook_id: UUID) -> None:
        self.state.webhooks[webhook_id] = replace(self.state.webhooks[webhook_id], enabled=False)


class FakeDeliveries(DeliveryRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, delivery: Delivery) -> None:
        self.state.deliveries[delivery.id] = delivery

    def claim_due(self, worker_id: str, limit: int, now: datetime, lease_until: datetime) -> list[Delivery]:
        due = [
            d
            for d in self.state.deliveries.values()
            if d.status.value == "pending" and d.next_attempt_at is not None and d.next_attempt_at <= now
        ][:limit]
        for delivery in due:
            self.state.deliveries[delivery.id] = replace(delivery, next_attempt_at=lease_until)
        return due

    def record_attempt(self, delivery: Delivery, result: AttemptResult) -> None:
        self.state.deliveries[delivery.id] = delivery
        self.state.attempts.setdefault(delivery.id, []).append(result)

    def for_request(self, request_id: UUID) -> list[tuple[Delivery, list[AttemptResult]]]:
        return [
            (d, self.state.attempts.get(d.id, [])) for d in self.state.deliveries.values() if d.request_id == request_id
        ]


class FakeDatabase:
    """What the fakes have committed; a new FakeUnitOfWork per transaction works on a copy of it."""

    def __init__(self) -> None:
        self.state = State()
        self.commits = 0
        self._lock = threading.Lock()

    def unit_of_work(self) -> "FakeUnitOfWork":
        return FakeUnitOfWork(self)

    def snapshot(self) -> State:
        with self._lock:
            return copy.deepcopy(self.state)

    def save(self, state: State) -> None:
        with self._lock:
            self.state = copy.deepcopy(state)
            self.commits += 1


class FakeUnitOfWork(UnitOfWork):
    def __init__(self, database: FakeDatabase) -> None:
        self._database = database

    def __enter__(self) -> "FakeUnitOfWork":
        self._working = self._database.snapshot()
        self.requests = FakeRequests(self._working)
        self.products = FakeProducts(self._working)
        self.jobs = FakeJobs(self._working)
        self.webhooks = FakeWebhooks(self._working)
        self.deliveries = FakeDeliveries(self._working)
        return self

    def commit(self) -> None:
        self._database.save(self._working)

    def rollback(self) -> None:
        pass  # the working copy is simply dropped

    @contextmanager
    def read(self) -> Iterator["FakeUnitOfWork"]:
        with self:
            yield self


class FixedClock(Clock):
    def __init__(self, start: datetime = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class SequentialIds(IdGenerator):
    def __init__(self) -> None:
        self.count = 0

    def uuid(self) -> UUID:
        self.count += 1
        return UUID(int=self.count)

    def message_id(self) -> str:
        self.count += 1
        return f"msg_{self.count}"

    def secret(self) -> str:
        self.count += 1
        return "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


class AllowListUrlPolicy(UrlPolicy):
    def __init__(self, refused_hosts: set[str] = frozenset({"internal.example"})) -> None:
        self.refused_hosts = refused_hosts

    def check(self, url: str) -> None:
        host = url.split("://", 1)[-1].split("/", 1)[0]
        if host in self.refused_hosts:
            raise UnsafeUrl(f"the host {host!r} is not public")


class FakeFetcher(ImageFetcher):
    """Serves `images[url]`; a URL mapped to an ImageFailure fails with it (transient ones once per entry)."""

    def __init__(self, images: dict[str, bytes | ImageFailure | list]) -> None:
        self.images = images
        self.fetched: list[str] = []

    def fetch(self, url: str) -> FetchedImage:
        self.fetched.append(url)
        answer = self.images.get(url, ImageFailure("HTTP 404 from the origin"))
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, ImageFailure):
            raise FetchFailed(answer)
        return FetchedImage(answer, "image/jpeg", url)


class FakeOptimizer(ImageOptimizer):
    """Halves the bytes; refuses anything that does not start like a JPEG."""

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        if not data.startswith(b"\xff\xd8"):
            raise OptimizeFailed("not an image: an HTML page")
        return OptimizedImage(data[: max(len(data) // 2, 2)], "image/jpeg", "jpg", 4, 3)


class FakeStorage(ImageStorage):
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, media_type: str) -> str:
        self.files[key] = data
        return self.url_for(key)

    def url_for(self, key: str) -> str:
        return f"http://imgopt.test/files/{key}"


class FakeSender(WebhookSender):
    """Answers with the scripted status codes in turn (the last repeats); remembers what it was sent."""

    def __init__(self, clock: Clock, statuses: list[int | str] | None = None) -> None:
        self.clock = clock
        self.statuses = statuses or [200]
        self.sent: list[tuple[str, dict[str, str], bytes, str]] = []

    def send(self, url: str, headers: dict[str, str], body: bytes, content_type: str) -> AttemptResult:
        self.sent.append((url, headers, body, content_type))
        answer = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        if isinstance(answer, str):
            return AttemptResult(self.clock.now(), error=answer)
        return AttemptResult(self.clock.now(), status_code=answer)
