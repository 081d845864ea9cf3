"""Hand-written fakes of the ports: in-memory, transactional enough to show what a commit keeps."""

import base64
import copy
import secrets
import threading
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from uuid import UUID

from imgopt.application.ports import (
    ApiKeyReader,
    ApiKeyRepository,
    Claimed,
    Clock,
    DeliveryRepository,
    FetchedImage,
    FetchFailed,
    IdGenerator,
    ImageFetcher,
    ImageJobRepository,
    ImageOptimizer,
    ImageStorage,
    NotModified,
    OptimizedImage,
    OptimizeFailed,
    Page,
    Position,
    ProductRepository,
    RandomSource,
    RequestRepository,
    Scope,
    SourceRepository,
    StatusReader,
    StorageFailed,
    StoredObject,
    TenantRepository,
    UnitOfWork,
    UnsafeUrl,
    UrlPolicy,
    WebhookRepository,
    WebhookSender,
    WorkSignal,
)
from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import ImageFailure, ImageJob, ImageOutcome
from imgopt.domain.image_results import ImageResult
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.options import OptimizationOptions, Quality
from imgopt.domain.product_csv import CsvCounts, CsvLimits, ProductRow
from imgopt.domain.request import ProductProgress, UploadRequest
from imgopt.domain.sources import RememberedSource, SourceKey, SourceTurn, Validators
from imgopt.domain.status import ImageDetail, ProductDetail, StatusSummary
from imgopt.domain.tenancy import ApiKey, Tenant
from imgopt.domain.webhooks import AttemptResult, Delivery, DeliveryStatus, Webhook


def _owned(tenant_id: Scope, thing: object) -> bool:
    return thing is not None and tenant_id in (None, thing.tenant_id)


def _newest_first(items: list, position, after: Position | None, limit: int) -> Page:
    """A page of `items` as the PostgreSQL reader cuts it: newest first, after `after`."""
    ordered = sorted(items, key=lambda item: (position(item).created_at, position(item).id), reverse=True)
    if after is not None:
        ordered = [i for i in ordered if (position(i).created_at, position(i).id) < (after.created_at, after.id)]
    return Page(ordered[:limit], position(ordered[limit - 1]) if len(ordered) > limit else None)


@dataclass
class State:
    tenants: dict[UUID, Tenant] = field(default_factory=dict)
    keys: dict[UUID, ApiKey] = field(default_factory=dict)
    requests: dict[UUID, UploadRequest] = field(default_factory=dict)
    products: dict[UUID, list[ProductRow]] = field(default_factory=dict)
    jobs: dict[int, dict] = field(default_factory=dict)
    webhooks: dict[UUID, Webhook] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    attempts: dict[str, list[AttemptResult]] = field(default_factory=dict)
    sources: dict[SourceKey, dict] = field(default_factory=dict)

    def jobs_of(self, request_id: UUID) -> list[dict]:
        return [job for job in self.jobs.values() if job["request_id"] == request_id]

    def due_jobs(self, request_id: UUID, now: datetime) -> list[dict]:
        jobs = self.jobs_of(request_id)
        due = [j for j in jobs if j["status"] is ImageStatus.PENDING and j["next_attempt_at"] <= now]
        return sorted(due, key=lambda j: (j["next_attempt_at"], j["id"]))

    def short_of_jobs(self, lines: int, now: datetime) -> list[UploadRequest]:
        def ahead(request: UploadRequest) -> int:
            due = self.due_jobs(request.id, now)
            return request.expanded_line - due[0]["line"] if due else -1

        running = [r for r in self.requests.values() if not r.status.is_terminal]
        short = [r for r in running if r.expanded_line < r.last_line and ahead(r) < lines]
        return sorted(short, key=lambda r: (ahead(r), r.created_at))

    def in_flight(self, request_id: UUID) -> int:
        return sum(1 for job in self.jobs_of(request_id) if job["status"] is ImageStatus.PROCESSING)


class FakeRequests(RequestRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, request: UploadRequest) -> None:
        self.state.requests[request.id] = copy.deepcopy(request)

    def get_for_update(self, request_id: UUID, tenant_id: Scope) -> UploadRequest | None:
        request = self.state.requests.get(request_id)
        return copy.deepcopy(request) if _owned(tenant_id, request) else None

    def get_many_for_update(self, request_ids: Collection[UUID]) -> dict[UUID, UploadRequest]:
        known = sorted(request_id for request_id in request_ids if request_id in self.state.requests)
        return {request_id: copy.deepcopy(self.state.requests[request_id]) for request_id in known}

    def short_of_jobs(self, lines: int, now: datetime, limit: int) -> list[UploadRequest]:
        return [copy.deepcopy(r) for r in self.state.short_of_jobs(lines, now)[:limit]]

    def save(self, request: UploadRequest) -> None:
        self.add(request)

    def finished_before(self, moment: datetime, limit: int) -> list[UploadRequest]:
        old = [r for r in self.state.requests.values() if r.status.is_terminal and r.finished_at < moment]
        return [copy.deepcopy(r) for r in sorted(old, key=lambda r: r.finished_at)[:limit]]

    def delete(self, request: UploadRequest) -> None:
        del self.state.requests[request.id]
        self.state.products.pop(request.id, None)
        for job in self.state.jobs_of(request.id):
            del self.state.jobs[job["id"]]
        for webhook in [w for w in self.state.webhooks.values() if w.request_id == request.id]:
            FakeWebhooks(self.state).delete(webhook)
        for delivery in [d for d in self.state.deliveries.values() if d.request_id == request.id]:
            del self.state.deliveries[delivery.id]


class FakeTenants(TenantRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def named(self, name: str) -> Tenant | None:
        return next((t for t in self.state.tenants.values() if t.name == name), None)

    def get(self, tenant_id: UUID) -> Tenant | None:
        return self.state.tenants.get(tenant_id)

    def add(self, tenant: Tenant) -> None:
        self.state.tenants[tenant.id] = tenant

    def set_default_quality(self, tenant_id: UUID, quality: Quality) -> None:
        self.state.tenants[tenant_id] = replace(self.state.tenants[tenant_id], default_quality=quality)

    def waiting_images(self, tenant_id: UUID) -> int:
        return sum(r.waiting for r in self.state.requests.values() if r.tenant_id == tenant_id)


class FakeKeys(ApiKeyRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, key: ApiKey) -> None:
        self.state.keys[key.id] = key

    def listed(self, tenant_id: Scope) -> list[tuple[ApiKey, str]]:
        keys = sorted(self.state.keys.values(), key=lambda k: (k.created_at, k.id), reverse=True)
        return [(k, self.state.tenants[k.tenant_id].name) for k in keys if _owned(tenant_id, k)]

    def revoke(self, key_id: UUID, now: datetime) -> ApiKey | None:
        key = self.state.keys.get(key_id)
        if key is not None:
            key = self.state.keys[key_id] = replace(key, revoked_at=key.revoked_at or now)
        return key


class FakeProducts(ProductRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add_many(self, request_id: UUID, rows: Iterable[ProductRow]) -> None:
        self.state.products.setdefault(request_id, []).extend(rows)

    def add_plain(self, request_id: UUID, csv_file: BinaryIO, limits: CsvLimits) -> CsvCounts | None:
        csv_file.read()  # declines every file, having read it: the use case must read it again from its start
        return None

    def progress(self, lines: Mapping[UUID, Collection[int]]) -> dict[UUID, list[ProductProgress]]:
        return {request_id: self._progress(request_id, request_lines) for request_id, request_lines in lines.items()}

    def _progress(self, request_id: UUID, lines: Collection[int]) -> list[ProductProgress]:
        jobs = self.state.jobs_of(request_id)
        return [
            ProductProgress.of(job["status"] for job in jobs if job["line"] == row.line)
            for row in self.state.products[request_id]
            if row.line in lines
        ]


class FakeJobs(ImageJobRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add_for(self, request: UploadRequest, products: int, now: datetime) -> int:
        rows = [row for row in self.state.products[request.id] if row.line > request.expanded_line][:products]
        for row in rows:
            for position, url in enumerate(row.urls):
                job_id = len(self.state.jobs) + 1
                self.state.jobs[job_id] = dict(
                    id=job_id, request_id=request.id, line=row.line, position=position, url=url, attempts=0,
                    status=ImageStatus.PENDING, next_attempt_at=now, claimed_by=None, lease_until=None, outcome=None,
                    output_name=secrets.token_hex(16),
                )  # fmt: skip
        return rows[-1].line if rows else request.last_line

    def claim(
        self,
        worker_id: str,
        limit: int,
        now: datetime,
        lease_until: datetime,
        lines: int,
        room: DownloadRoom = DownloadRoom(),
    ) -> Claimed:
        """The due jobs of running requests, first due first, each tenant within its `room`.

        Not the turns of the PostgreSQL statement: those are the database's, tested there
        (tests/integration/test_fair_queue.py)."""
        running = {r.id for r in self.state.requests.values() if not r.status.is_terminal}
        due = [job for request_id in running for job in self.state.due_jobs(request_id, now)]
        picked: list[dict] = []
        for job in sorted(due, key=lambda job: (job["next_attempt_at"], job["id"])):
            tenant_id = self.state.requests[job["request_id"]].tenant_id
            if len(picked) < limit and room.of(tenant_id) != 0:
                picked.append(job)
                room = room.after([tenant_id])
        taken = Counter(job["request_id"] for job in picked)
        finishing = {request_id: self._finishing(request_id, count) for request_id, count in taken.items()}
        claimed = [self._claim(job, worker_id, lease_until, finishing[job["request_id"]]) for job in picked]
        return Claimed(claimed, bool(self.state.short_of_jobs(lines, now)))

    def _finishing(self, request_id: UUID, taken: int) -> bool:
        """Whether the claim takes the last images of the request left to claim, as the statement says it."""
        request, in_flight = self.state.requests[request_id], self.state.in_flight(request_id)
        unclaimed = request.image_count - request.cancelled - request.optimized - request.failed - in_flight
        return unclaimed - taken <= in_flight + taken

    def _claim(self, job: dict, worker_id: str, lease_until: datetime, finishing: bool) -> ImageJob:
        job.update(status=ImageStatus.PROCESSING, claimed_by=worker_id, lease_until=lease_until)
        job["attempts"] += 1
        options = self.state.requests[job["request_id"]].options
        return ImageJob(
            job["id"],
            job["request_id"],
            job["line"],
            job["position"],
            job["url"],
            job["attempts"],
            options,
            finishing=finishing,
            tenant_id=self.state.requests[job["request_id"]].tenant_id,
            output_name=job["output_name"],
        )

    def reclaim_expired(self, now: datetime) -> int:
        expired = [j for j in self.state.jobs.values() if j["lease_until"] and j["lease_until"] < now]
        for job in expired:
            job.update(status=ImageStatus.PENDING, claimed_by=None, lease_until=None, next_attempt_at=now)
        return len(expired)

    def record(self, worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> list[ImageOutcome]:
        recorded = [outcome for outcome in outcomes if self._held(outcome.job_id, worker_id)]
        for outcome in recorded:
            job = self.state.jobs[outcome.job_id]
            job.update(status=outcome.status, outcome=outcome, lease_until=None, attempts=outcome.attempts)
            job["next_attempt_at"] = outcome.next_attempt_at or job["next_attempt_at"]
        return recorded

    def extend_leases(self, worker_id: str, job_ids: list[int], lease_until: datetime) -> int:
        held = [job_id for job_id in job_ids if self._held(job_id, worker_id)]
        for job_id in held:
            self.state.jobs[job_id]["lease_until"] = lease_until
        return len(held)

    def release(self, worker_id: str, jobs: list[ImageJob]) -> None:
        for released in jobs:
            if self._held(released.id, worker_id):
                job = self.state.jobs[released.id]
                job.update(status=ImageStatus.PENDING, claimed_by=None, lease_until=None, attempts=released.attempts)

    def release_unheld(self, worker_id: str, held: list[int]) -> int:
        strays = [job_id for job_id in self.state.jobs if self._held(job_id, worker_id) and job_id not in held]
        for job_id in strays:
            job = self.state.jobs[job_id]
            job.update(
                status=ImageStatus.PENDING, claimed_by=None, lease_until=None, attempts=max(job["attempts"] - 1, 0)
            )
        return len(strays)

    def in_flight(self, request: UploadRequest) -> int:
        return sum(1 for job in self.state.jobs_of(request.id) if job["status"] is ImageStatus.PROCESSING)

    def cancel_pending(self, request: UploadRequest, now: datetime) -> int:
        pending = [job for job in self.state.jobs_of(request.id) if job["status"] is ImageStatus.PENDING]
        for job in pending:
            job["status"] = ImageStatus.CANCELLED
        return len(pending)

    def retry_failed(self, request: UploadRequest, now: datetime) -> list[int]:
        failed = [job for job in self.state.jobs_of(request.id) if job["status"] is ImageStatus.FAILED]
        for job in failed:
            job.update(status=ImageStatus.PENDING, attempts=0, next_attempt_at=now, outcome=None)
        return [job["line"] for job in failed]

    def _held(self, job_id: int, worker_id: str) -> bool:
        job = self.state.jobs[job_id]
        return job["status"] is ImageStatus.PROCESSING and job["claimed_by"] == worker_id


class FakeSources(SourceRepository):
    """The remembered sources by key, each {"remembered": RememberedSource | None, "job": id, "until": moment}."""

    def __init__(self, state: State) -> None:
        self.state = state

    def turns(
        self, jobs: Collection[ImageJob], now: datetime, lease_until: datetime, producer: str = ""
    ) -> dict[int, SourceTurn]:
        turns = {}
        for job in sorted((job for job in jobs if job.tenant_id is not None), key=lambda job: job.id):
            key = SourceKey.of(job.tenant_id, job.url, job.options, producer)
            row = self.state.sources.setdefault(key, {"remembered": None, "job": None, "until": None})
            free = row["job"] in (None, job.id) or row["until"] <= now
            if free:
                row.update(job=job.id, until=lease_until)
            turns[job.id] = SourceTurn(key, row["remembered"], holds_fetch=free, failed_for=row.get("failed_for"))
        return turns

    def extend_fetches(self, worker_id: str, job_ids: list[int], lease_until: datetime) -> int:
        def held(job_id) -> bool:
            job = self.state.jobs.get(job_id)
            return job is not None and job["status"] is ImageStatus.PROCESSING and job["claimed_by"] == worker_id

        rows = [row for row in self.state.sources.values() if row["job"] in job_ids and held(row["job"])]
        for row in rows:
            row["until"] = lease_until
        return len(rows)

    def still_remembered(self, outcomes: Collection[ImageOutcome]) -> set[int]:
        remembered = {o.job_id: self._remembered(o.source.key) for o in outcomes if o.reused}
        return {o.job_id for o in outcomes if (r := remembered.get(o.job_id)) and r.output.key == o.output.key}

    def remember(self, outcomes: Collection[ImageOutcome], now: datetime) -> None:
        for outcome in outcomes:
            row = self.state.sources.setdefault(outcome.source.key, {"remembered": None, "job": None, "until": None})
            source = outcome.source
            if outcome.output is not None and source.content_sha256 is not None:
                output = replace(outcome.output, result=replace(outcome.output.result, reused=False))
                row["remembered"] = RememberedSource(
                    source.validators, source.content_sha256, output, outcome.request_id
                )
            if row["job"] == outcome.job_id:
                row.update(job=None, until=None)
            if outcome.status is ImageStatus.FAILED:
                row["failed_for"] = outcome.request_id

    def release_outputs(self, request: UploadRequest) -> list[str]:
        def keys(jobs: list[dict]) -> set[str]:
            return {job["outcome"].output.key for job in jobs if job["outcome"] and job["outcome"].output}

        others = keys([job for job in self.state.jobs.values() if job["request_id"] != request.id])
        released = sorted(keys(self.state.jobs_of(request.id)) - others)
        for row in self.state.sources.values():
            if row["remembered"] is not None and row["remembered"].output.key in released:
                row["remembered"] = None
        return released

    def _remembered(self, key: SourceKey) -> RememberedSource | None:
        return self.state.sources.get(key, {}).get("remembered")


class FakeWebhooks(WebhookRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, webhook: Webhook) -> None:
        self.state.webhooks[webhook.id] = webhook

    def get(self, webhook_id: UUID, tenant_id: Scope) -> Webhook | None:
        webhook = self.state.webhooks.get(webhook_id)
        return webhook if _owned(tenant_id, webhook) else None

    def for_request(self, request_id: UUID) -> list[Webhook]:
        tenant = self.state.requests[request_id].tenant_id
        return [
            w
            for w in self.state.webhooks.values()
            if w.enabled and (w.request_id == request_id or (w.request_id is None and w.tenant_id == tenant))
        ]

    def save(self, webhook: Webhook) -> None:
        self.state.webhooks[webhook.id] = webhook

    def delete(self, webhook: Webhook) -> None:
        del self.state.webhooks[webhook.id]
        for delivery in [d for d in self.state.deliveries.values() if d.webhook_id == webhook.id]:
            del self.state.deliveries[delivery.id]

    def disable(self, webhook_id: UUID) -> None:
        self.state.webhooks[webhook_id] = replace(self.state.webhooks[webhook_id], enabled=False)


class FakeDeliveries(DeliveryRepository):
    def __init__(self, state: State) -> None:
        self.state = state

    def add(self, delivery: Delivery) -> None:
        self.state.deliveries[delivery.id] = delivery

    def get(self, delivery_id: str, tenant_id: Scope) -> Delivery | None:
        delivery = self.state.deliveries.get(delivery_id)
        owner = delivery and self.state.webhooks.get(delivery.webhook_id)
        return delivery if _owned(tenant_id, owner) else None

    def save(self, delivery: Delivery) -> None:
        self.state.deliveries[delivery.id] = delivery

    def claim_due(
        self, limit: int, now: datetime, lease_until: datetime, skip_webhooks: Collection[UUID] = ()
    ) -> list[Delivery]:
        first_per_webhook: dict[UUID, Delivery] = {}
        for d in sorted(self.state.deliveries.values(), key=lambda d: (d.next_attempt_at or now, d.id)):
            due = d.status is DeliveryStatus.PENDING and d.next_attempt_at <= now
            if due and d.webhook_id not in skip_webhooks:
                first_per_webhook.setdefault(d.webhook_id, d)
        claimed = list(first_per_webhook.values())[:limit]
        for delivery in claimed:
            self.state.deliveries[delivery.id] = replace(delivery, next_attempt_at=lease_until)
        return claimed

    def record_attempt(self, delivery: Delivery, result: AttemptResult) -> None:
        if delivery.id not in self.state.deliveries:
            return  # deleted while it was being sent
        self.state.deliveries[delivery.id] = delivery
        self.state.attempts.setdefault(delivery.id, []).append(result)


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
        self.tenants = FakeTenants(self._working)
        self.keys = FakeKeys(self._working)
        self.requests = FakeRequests(self._working)
        self.products = FakeProducts(self._working)
        self.jobs = FakeJobs(self._working)
        self.sources = FakeSources(self._working)
        self.webhooks = FakeWebhooks(self._working)
        self.deliveries = FakeDeliveries(self._working)
        return self

    def commit(self) -> None:
        self._database.save(self._working)

    def rollback(self) -> None:
        pass  # the working copy is simply dropped


class FakeStatusReader(StatusReader):
    """Reads what the fake database has committed."""

    def __init__(self, database: FakeDatabase) -> None:
        self._database = database

    def summary(self, request_id: UUID, tenant_id: Scope) -> StatusSummary | None:
        state = self._database.snapshot()
        request = state.requests.get(request_id)
        return _summary(state, request) if _owned(tenant_id, request) else None

    def products(
        self, request_id: UUID, tenant_id: Scope, after_line: int = 0, limit: int | None = None
    ) -> Iterator[ProductDetail]:
        state = self._database.snapshot()
        if not _owned(tenant_id, state.requests.get(request_id)):
            return
        jobs = {(job["line"], job["position"]): job for job in state.jobs_of(request_id)}
        rows = [row for row in state.products.get(request_id, []) if row.line > after_line][:limit]
        for row in rows:
            images = [_image(position, url, jobs.get((row.line, position))) for position, url in enumerate(row.urls)]
            yield ProductDetail(row.line, row.serial, row.name, images)

    def deliveries(self, request_id: UUID, tenant_id: Scope) -> list[tuple[Delivery, list[AttemptResult]]]:
        state = self._database.snapshot()
        if not _owned(tenant_id, state.requests.get(request_id)):
            return []
        return [(d, state.attempts.get(d.id, [])) for d in state.deliveries.values() if d.request_id == request_id]

    def requests(self, tenant_id: UUID, status: str | None, after: Position | None, limit: int) -> Page:
        state = self._database.snapshot()
        mine = [
            _summary(state, r)
            for r in state.requests.values()
            if r.tenant_id == tenant_id and status in (None, r.status.value)
        ]
        return _newest_first(mine, lambda s: Position(s.created_at, str(s.request_id)), after, limit)

    def webhooks(self, tenant_id: UUID, after: Position | None, limit: int) -> Page:
        mine = [w for w in self._database.snapshot().webhooks.values() if w.tenant_id == tenant_id]
        return _newest_first(mine, lambda w: Position(w.created_at, str(w.id)), after, limit)

    def webhook_deliveries(self, webhook_id: UUID, tenant_id: UUID, after: Position | None, limit: int) -> Page | None:
        state = self._database.snapshot()
        if not _owned(tenant_id, state.webhooks.get(webhook_id)):
            return None
        logged = [(d, state.attempts.get(d.id, [])) for d in state.deliveries.values() if d.webhook_id == webhook_id]
        return _newest_first(logged, lambda d: Position(d[0].created_at, d[0].id), after, limit)


def _summary(state: State, request: UploadRequest) -> StatusSummary:
    processing = sum(1 for job in state.jobs_of(request.id) if job["status"] is ImageStatus.PROCESSING)
    return StatusSummary.of(request, processing)


def _image(position: int, url: str, job: dict | None) -> ImageDetail:
    if job is None:
        return ImageDetail(position, url, ImageStatus.PENDING)
    outcome, output = job["outcome"], job["outcome"] and job["outcome"].output
    return ImageDetail(
        position,
        url,
        job["status"],
        job["attempts"],
        output_url=output.url if output else None,
        failure_reason=outcome.reason if outcome else None,
        result=output.result if output else None,
    )


class FakeWorkSignal(WorkSignal):
    def __init__(self) -> None:
        self.notified = 0

    def notify(self) -> None:
        self.notified += 1

    def wait(self, timeout: float) -> bool:
        return False


class FixedClock(Clock):
    def __init__(self, start: datetime = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class FixedRandom(RandomSource):
    def __init__(self, value: float = 0.5) -> None:
        self.value = value

    def fraction(self) -> float:
        return self.value


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
        return "whsec_" + base64.b64encode(f"secret number {self.count:>18}".encode()).decode()

    def api_key(self) -> str:
        self.count += 1
        return f"imgopt_{self.count:0>43}"


class AllowListUrlPolicy(UrlPolicy):
    """Refuses `internal.example`; `nowhere.example` does not resolve (a warning); every other host is public."""

    def __init__(self, refused_hosts: set[str] = frozenset({"internal.example"})) -> None:
        self.refused_hosts = refused_hosts

    def check(self, url: str) -> str | None:
        host = url.split("://", 1)[-1].split("/", 1)[0]
        if host in self.refused_hosts:
            raise UnsafeUrl(f"the host {host!r} is not public")
        return f"the host {host!r} does not resolve" if host == "nowhere.example" else None


class FakeApiKeyReader(ApiKeyReader):
    """Keys as the fake database has committed them; remembers nothing, so every call asks."""

    def __init__(self, database: "FakeDatabase") -> None:
        self._database = database

    def find(self, key_hash: str) -> ApiKey | None:
        return next((k for k in self._database.snapshot().keys.values() if k.key_hash == key_hash), None)


class FakeFetcher(ImageFetcher):
    """Serves `images[url]`; a URL mapped to an ImageFailure fails with it (transient ones once per entry).

    With an ETag in `etags[url]`, it sends that and answers NotModified when asked with it;
    `asked` holds the validators each fetch came with.
    """

    def __init__(self, images: dict[str, bytes | ImageFailure | list], etags: dict[str, str] | None = None) -> None:
        self.images = images
        self.etags = etags if etags is not None else {}
        self.fetched: list[str] = []
        self.asked: list[Validators] = []

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        self.fetched.append(url)
        self.asked.append(known)
        etag = self.etags.get(url)
        if etag is not None and known.etag == etag:
            return NotModified(Validators(etag))
        answer = self.images.get(url, ImageFailure("HTTP 404 from the origin"))
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, ImageFailure):
            raise FetchFailed(answer)
        return FetchedImage(answer, "image/jpeg", Validators(etag))


class FakeOptimizer(ImageOptimizer):
    """Halves the bytes; refuses anything that does not start like a JPEG. Its `producer` may be changed."""

    def __init__(self, producer: str = "fake/1") -> None:
        self._producer = producer

    @property
    def producer(self) -> str:
        return self._producer

    @producer.setter
    def producer(self, producer: str) -> None:
        self._producer = producer

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        if not data.startswith(b"\xff\xd8"):
            raise OptimizeFailed("not an image: an HTML page")
        output = data[: max(len(data) // 2, 2)]
        return OptimizedImage(output, "jpg", ImageResult("image/jpeg", len(data), len(output), 4, 3))


class FakeStorage(ImageStorage):
    """Objects in a dict; `failing` makes every call raise StorageFailed, as an unreachable store would."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.media_types: dict[str, str] = {}
        self.failing = False

    def put(self, key: str, data: bytes, media_type: str) -> str:
        self._answer()
        self.files[key], self.media_types[key] = data, media_type
        return self.url_for(key)

    def url_for(self, key: str) -> str:
        return f"http://imgopt.test/files/{key}"

    def delete(self, keys: Iterable[str]) -> None:
        self._answer()
        for key in keys:
            self.files.pop(key, None)

    def stat(self, key: str) -> StoredObject | None:
        self._answer()
        return StoredObject(key, len(self.files[key]), self.media_types[key]) if key in self.files else None

    def read(self, key: str) -> Iterator[bytes] | None:
        self._answer()
        return iter([self.files[key]]) if key in self.files else None

    def signed_url(self, key: str) -> str | None:
        return None

    def sweep(self, older_than: timedelta) -> int:
        self._answer()
        return 0

    def _answer(self) -> None:
        if self.failing:
            raise StorageFailed("the fake storage is down")


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
