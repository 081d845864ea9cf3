"""Units of work and repositories: the transactions the use cases run, and whose data they touch."""

import abc
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Self
from uuid import UUID

from imgopt.domain.download_room import DownloadRoom
from imgopt.domain.image_jobs import ImageJob, ImageOutcome
from imgopt.domain.options import Quality
from imgopt.domain.product_csv import CsvCounts, CsvLimits, ProductRow
from imgopt.domain.request import ProductProgress, UploadRequest
from imgopt.domain.sources import SourceTurn
from imgopt.domain.tenancy import ApiKey, Tenant
from imgopt.domain.webhooks import AttemptResult, Delivery, Webhook

EVERY_TENANT = None
"""The scope of the worker, which acts for every tenant; a caller's scope is always its own tenant's id."""


Scope = UUID | None


class Unavailable(Exception):
    """The database cannot be reached for now (down, restarting, out of connections); the same call may
    succeed later. Adapters raise it in place of their drivers' connection errors: the API answers 503
    and the worker backs off, keeping what it has done."""


class RequestRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, request: UploadRequest) -> None: ...

    @abc.abstractmethod
    def get_for_update(self, request_id: UUID, tenant_id: Scope) -> UploadRequest | None:
        """The request if it belongs to `tenant_id`, locked until the unit of work ends (lock several
        in id order, or risk a deadlock). Another tenant's request is None, exactly like an unknown one."""

    @abc.abstractmethod
    def get_many_for_update(self, request_ids: Collection[UUID]) -> dict[UUID, UploadRequest]:
        """The requests of every tenant (the worker's scope), locked in id order until the unit of work
        ends: one round trip for a batch's requests. Unknown ids are left out."""

    @abc.abstractmethod
    def short_of_jobs(self, lines: int, now: datetime, limit: int) -> list[UploadRequest]:
        """Up to `limit` running requests with products not yet turned into jobs whose first job due at `now`
        (in claiming order) is fewer than `lines` lines before `expanded_line`, or that have none:
        those with none first, then the fewest lines ahead, then the oldest. Locked until the unit
        of work ends; one another transaction holds is left out (it is busy elsewhere)."""

    @abc.abstractmethod
    def save(self, request: UploadRequest) -> None: ...

    @abc.abstractmethod
    def delete(self, request: UploadRequest) -> None:
        """Remove the request with its products, images, webhooks and deliveries."""

    @abc.abstractmethod
    def finished_before(self, moment: datetime, limit: int) -> list[UploadRequest]:
        """Up to `limit` requests of every tenant that finished before `moment`, oldest first; locked until
        the unit of work ends, skipping those another worker holds."""


class TenantRepository(abc.ABC):
    @abc.abstractmethod
    def named(self, name: str) -> Tenant | None: ...

    @abc.abstractmethod
    def get(self, tenant_id: UUID) -> Tenant | None: ...

    @abc.abstractmethod
    def add(self, tenant: Tenant) -> None: ...

    @abc.abstractmethod
    def set_default_quality(self, tenant_id: UUID, quality: Quality) -> None:
        """What the tenant's uploads that name no quality get from now on."""

    @abc.abstractmethod
    def waiting_images(self, tenant_id: UUID) -> int:
        """Images of the tenant's unfinished requests not yet finished, counted while the tenant is
        locked until the unit of work ends, so that concurrent uploads are checked one after another."""


class ApiKeyRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, key: ApiKey) -> None: ...

    @abc.abstractmethod
    def listed(self, tenant_id: Scope) -> list[tuple[ApiKey, str]]:
        """Keys with their tenant's name, newest first: the tenant's, or every tenant's."""

    @abc.abstractmethod
    def revoke(self, key_id: UUID, now: datetime) -> ApiKey | None:
        """Revoke the key (again is harmless) and tell every API process at commit; None if there is no such key."""


class ProductRepository(abc.ABC):
    @abc.abstractmethod
    def add_many(self, request_id: UUID, rows: Iterable[ProductRow]) -> None:
        """Store every row the iterable yields, in bulk, consuming it as it goes."""

    @abc.abstractmethod
    def add_plain(self, request_id: UUID, csv_file: BinaryIO, limits: CsvLimits) -> CsvCounts | None:
        """Store every row of a CSV of the common shape, read in bulk, and return its counts; or store nothing.

        None when the file turns out not to be of that shape, or its serials repeat: then only the
        row-by-row rules can tell what is wrong, or that nothing is. The stream is left wherever
        reading stopped. CsvTooLarge passes through.
        """

    @abc.abstractmethod
    def progress(self, lines: Mapping[UUID, Collection[int]]) -> dict[UUID, list[ProductProgress]]:
        """How far the images of the products on `lines[request_id]` have come, for each request, as
        this unit of work sees them."""


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a claim took, and whether it saw a running request short of jobs."""

    jobs: list[ImageJob]
    requests_short_of_jobs: bool


class ImageJobRepository(abc.ABC):
    """The work queue: one job per image, claimed under a lease so workers never share one."""

    @abc.abstractmethod
    def add_for(self, request: UploadRequest, products: int, now: datetime) -> int:
        """Create the jobs of the next `products` products after `request.expanded_line`; return the last line."""

    @abc.abstractmethod
    def claim(
        self,
        worker_id: str,
        limit: int,
        now: datetime,
        lease_until: datetime,
        lines: int,
        room: DownloadRoom = DownloadRoom(),
    ) -> Claimed:
        """Up to `limit` due jobs of running requests, now held by `worker_id`; each claim counts as an attempt.

        No tenant gets more than its `room` (the rest of its share of the worker's downloads).

        Tenants, then the requests of each, take turns, so a small upload never waits behind another's
        huge one: a claim comes up short only when none has anything more due. The rule is stated once,
        in the PostgreSQL statement (`adapters/postgres/jobs.py`), the only place that sees every
        worker's claims at once; the tests of it run there (tests/integration/test_fair_queue.py).
        Within a request, the jobs due first go first. It also tells whether any request is short of
        jobs, as `RequestRepository.short_of_jobs(lines, now, …)` would find it: the claim has just
        looked, and asking apart would cost a round trip.
        """

    @abc.abstractmethod
    def reclaim_expired(self, now: datetime) -> int:
        """Put the jobs whose lease ran out (their worker died) back in the queue, due now; return how many."""

    @abc.abstractmethod
    def record(self, worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> list[ImageOutcome]:
        """Persist the outcomes of jobs `worker_id` still holds; return those (the others were reclaimed)."""

    @abc.abstractmethod
    def extend_leases(self, worker_id: str, job_ids: list[int], lease_until: datetime) -> int:
        """Extend to `lease_until` the lease of those jobs `worker_id` still holds; return how many."""

    @abc.abstractmethod
    def release(self, worker_id: str, jobs: list[ImageJob]) -> None:
        """Hand back unprocessed jobs so another worker takes them at once."""

    @abc.abstractmethod
    def release_unheld(self, worker_id: str, held: list[int]) -> int:
        """Hand back the jobs leased to `worker_id` other than `held`, their attempt not counted; return how many.

        A claim whose answer was lost (the database went away as it committed) leased jobs the
        worker never heard of, so never began.
        """

    @abc.abstractmethod
    def in_flight(self, request: UploadRequest) -> int:
        """How many of the request's images workers hold right now."""

    @abc.abstractmethod
    def cancel_pending(self, request: UploadRequest, now: datetime) -> int:
        """Cancel the request's jobs that wait for a worker; return how many."""

    @abc.abstractmethod
    def retry_failed(self, request: UploadRequest, now: datetime) -> list[int]:
        """Queue the request's failed images again, due now, with fresh attempts; return the line of each."""


class SourceRepository(abc.ABC):
    """What each tenant last fetched from each image URL (`domain.sources`), and who fetches it now.

    An output may be pointed at by many images, of many requests: an object in storage goes only
    when the last image pointing at it goes.
    """

    @abc.abstractmethod
    def turns(
        self, jobs: Collection[ImageJob], now: datetime, lease_until: datetime, producer: str = ""
    ) -> dict[int, SourceTurn]:
        """For each job with a tenant, by job id: what is remembered of its source as `producer` would make
        it (`SourceKey.of`), and whether it holds the source's fetch until `lease_until` (it does unless
        another image holds it past `now`; of several jobs of one source, the first)."""

    @abc.abstractmethod
    def extend_fetches(self, worker_id: str, job_ids: list[int], lease_until: datetime) -> int:
        """Push to `lease_until` the fetch lease of each source one of these jobs holds, if `worker_id` still
        holds the job; return how many were extended. Locks in key order, as `turns` does."""

    @abc.abstractmethod
    def still_remembered(self, outcomes: Collection[ImageOutcome]) -> set[int]:
        """The ids of those reuses among `outcomes` whose output is still the one remembered of their source.

        The sources of all `outcomes` are locked until the unit of work ends (in one order, so that
        recorders never wait on each other in a circle), so that no purge removes them meanwhile.
        """

    @abc.abstractmethod
    def remember(self, outcomes: Collection[ImageOutcome], now: datetime) -> None:
        """Remember the sources the outcomes fetched or reused, with their outputs, for their request;
        give up the fetch each held."""

    @abc.abstractmethod
    def release_outputs(self, request: UploadRequest) -> list[str]:
        """The storage keys of the request's outputs that no image of another request points to.

        The sources remembered with those outputs are forgotten, and locked until the unit of work
        ends, so that no image takes them meanwhile. Delete the keys, then the request.
        """


class WebhookRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, webhook: Webhook) -> None: ...

    @abc.abstractmethod
    def get(self, webhook_id: UUID, tenant_id: Scope) -> Webhook | None:
        """The webhook if it belongs to `tenant_id`; another tenant's is None, like an unknown one."""

    @abc.abstractmethod
    def for_request(self, request_id: UUID) -> list[Webhook]:
        """The enabled webhooks that announce this request: its own, and its tenant's global ones."""

    @abc.abstractmethod
    def save(self, webhook: Webhook) -> None:
        """Store a changed secret."""

    @abc.abstractmethod
    def delete(self, webhook: Webhook) -> None:
        """Remove the webhook with its deliveries."""

    @abc.abstractmethod
    def disable(self, webhook_id: UUID) -> None: ...


class DeliveryRepository(abc.ABC):
    """The outbox: deliveries are written with the state change they announce, sent later."""

    @abc.abstractmethod
    def add(self, delivery: Delivery) -> None: ...

    @abc.abstractmethod
    def get(self, delivery_id: str, tenant_id: Scope) -> Delivery | None:
        """The delivery if its webhook belongs to `tenant_id`; another tenant's is None, like an unknown one."""

    @abc.abstractmethod
    def save(self, delivery: Delivery) -> None:
        """Store a delivery queued again."""

    @abc.abstractmethod
    def claim_due(
        self, limit: int, now: datetime, lease_until: datetime, skip_webhooks: Collection[UUID] = ()
    ) -> list[Delivery]:
        """Up to `limit` due deliveries, at most one per webhook and none for `skip_webhooks`,
        hidden from other workers until `lease_until`."""

    @abc.abstractmethod
    def record_attempt(self, delivery: Delivery, result: AttemptResult) -> None:
        """Save `delivery` (already advanced past the attempt) and log the attempt."""


class UnitOfWork(abc.ABC):
    """One transaction over every repository; rolled back unless `commit` is called."""

    tenants: TenantRepository
    keys: ApiKeyRepository
    requests: RequestRepository
    products: ProductRepository
    jobs: ImageJobRepository
    sources: SourceRepository
    webhooks: WebhookRepository
    deliveries: DeliveryRepository

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""A new unit of work for each transaction: use cases share no transaction state, whatever thread runs them."""
