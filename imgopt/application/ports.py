"""Ports: what the use cases need from the outside world, as small abstract classes.

Adapters implement them; tests replace them with hand-written fakes. Every port is an
`abc.ABC` because Litestar checks injected values against their annotations.
"""

import abc
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Self
from uuid import UUID

from imgopt.domain.errors import DomainError
from imgopt.domain.model import ImageFailure, ImageJob, ImageOutcome, UploadRequest
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.product_csv import ProductRow
from imgopt.domain.status import ProductDetail, StatusSummary
from imgopt.domain.webhooks import AttemptResult, Delivery, Webhook


class RequestRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, request: UploadRequest) -> None: ...

    @abc.abstractmethod
    def get(self, request_id: UUID) -> UploadRequest | None: ...

    @abc.abstractmethod
    def get_for_update(self, request_id: UUID) -> UploadRequest | None:
        """The request, locked until the unit of work ends."""

    @abc.abstractmethod
    def save(self, request: UploadRequest) -> None: ...

    @abc.abstractmethod
    def summary(self, request_id: UUID) -> StatusSummary | None: ...


class ProductRepository(abc.ABC):
    @abc.abstractmethod
    def add_many(self, request_id: UUID, rows: Iterable[ProductRow]) -> None:
        """Store every row the iterable yields, in bulk, consuming it as it goes."""

    @abc.abstractmethod
    def details(self, request_id: UUID) -> Iterator[ProductDetail]:
        """Every product of the request in file order, with its images, streamed."""


class ImageJobRepository(abc.ABC):
    """The work queue: one job per image, claimed under a lease so workers never share one."""

    @abc.abstractmethod
    def claim(
        self, worker_id: str, limit: int, now: datetime, lease_until: datetime, reclaim_expired: bool = True
    ) -> list[ImageJob]:
        """Up to `limit` jobs that are due (and, with `reclaim_expired`, whose lease ran out), now held by `worker_id`.

        Each claim counts as an attempt, so a job whose workers keep dying shows it in `attempts`.
        """

    @abc.abstractmethod
    def record(self, worker_id: str, outcomes: list[ImageOutcome], now: datetime) -> list[UUID]:
        """Persist outcomes still held by `worker_id`; return the requests that now have no unfinished image."""

    @abc.abstractmethod
    def release(self, worker_id: str, jobs: list[ImageJob]) -> None:
        """Hand back unprocessed jobs so another worker takes them at once."""


class WebhookRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, webhook: Webhook) -> None: ...

    @abc.abstractmethod
    def get(self, webhook_id: UUID) -> Webhook | None: ...

    @abc.abstractmethod
    def for_request(self, request_id: UUID) -> list[Webhook]:
        """The enabled webhooks that announce this request: its own and the global ones."""

    @abc.abstractmethod
    def disable(self, webhook_id: UUID) -> None: ...


class DeliveryRepository(abc.ABC):
    """The outbox: deliveries are written with the state change they announce, sent later."""

    @abc.abstractmethod
    def add(self, delivery: Delivery) -> None: ...

    @abc.abstractmethod
    def claim_due(self, worker_id: str, limit: int, now: datetime, lease_until: datetime) -> list[Delivery]: ...

    @abc.abstractmethod
    def record_attempt(self, delivery: Delivery, result: AttemptResult) -> None:
        """Save `delivery` (already advanced past the attempt) and log the attempt."""

    @abc.abstractmethod
    def for_request(self, request_id: UUID) -> list[tuple[Delivery, list[AttemptResult]]]: ...


class UnitOfWork(abc.ABC):
    """One transaction over every repository; rolled back unless `commit` is called.

    `read()` is the same repositories for single reads: no transaction is held, each read
    sees what is committed when it runs, nothing may be written, and nothing may be streamed
    (a streamed result needs the transaction of the unit of work itself).
    """

    requests: RequestRepository
    products: ProductRepository
    jobs: ImageJobRepository
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

    @abc.abstractmethod
    def read(self) -> AbstractContextManager[Self]: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
"""A new unit of work for each transaction: use cases share no transaction state, whatever thread runs them."""


@dataclass(frozen=True, slots=True)
class FetchedImage:
    data: bytes
    media_type: str
    final_url: str


class FetchFailed(Exception):
    """A download that did not yield an image; `failure.transient` says whether to retry."""

    def __init__(self, failure: ImageFailure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class ImageFetcher(abc.ABC):
    @abc.abstractmethod
    def fetch(self, url: str) -> FetchedImage:
        """The image at `url`, or FetchFailed."""


@dataclass(frozen=True, slots=True)
class OptimizedImage:
    """`quality` and `score` say what auto quality chose: the encoder's quality and the SSIMULACRA2 score it
    reached against the source (None when a quality was given, or the output is lossless)."""

    data: bytes
    media_type: str
    extension: str
    width: int
    height: int
    quality: int | None = None
    score: float | None = None


class OptimizeFailed(Exception):
    """The bytes are not an image we can open and re-encode; never transient."""


class ImageOptimizer(abc.ABC):
    @abc.abstractmethod
    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        """A smaller (or, failing that, the original) encoding of `data`, or OptimizeFailed."""


class ImageStorage(abc.ABC):
    @abc.abstractmethod
    def put(self, key: str, data: bytes, media_type: str) -> str:
        """Store `data` under `key`, atomically and idempotently; return its public URL."""

    @abc.abstractmethod
    def url_for(self, key: str) -> str: ...


class WebhookSender(abc.ABC):
    @abc.abstractmethod
    def send(self, url: str, headers: dict[str, str], body: bytes, content_type: str) -> AttemptResult:
        """POST once, following no redirects; never raises for the receiver's failures."""


class UnsafeUrl(DomainError):
    code = "unsafe_url"


class UrlPolicy(abc.ABC):
    @abc.abstractmethod
    def check(self, url: str) -> None:
        """Raise UnsafeUrl unless `url` is http(s) and its host resolves to public addresses only."""


class WorkSignal(abc.ABC):
    """Wakes idle workers when new work is committed, so they need not wait for the next poll."""

    @abc.abstractmethod
    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True when work was announced meanwhile."""


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""


class IdGenerator(abc.ABC):
    @abc.abstractmethod
    def uuid(self) -> UUID: ...

    @abc.abstractmethod
    def message_id(self) -> str:
        """A new webhook message id, unique across the system."""

    @abc.abstractmethod
    def secret(self) -> str:
        """A new webhook signing secret, `whsec_` followed by base64 of 32 random bytes."""
