"""The upload request: the aggregate that counts its images' outcomes and knows when it has finished."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from imgopt.domain.errors import IllegalTransition
from imgopt.domain.image_jobs import ImageOutcome
from imgopt.domain.lifecycle import ImageStatus, RequestStatus, check_request_transition, outcome_status
from imgopt.domain.options import OptimizationOptions


@dataclass(frozen=True, slots=True)
class ProductProgress:
    """How far the images of one product have come."""

    image_count: int
    optimized: int = 0
    failed: int = 0

    @property
    def finished(self) -> bool:
        return self.optimized + self.failed == self.image_count

    @property
    def status(self) -> RequestStatus:
        if self.finished:
            return outcome_status(self.image_count, self.optimized, self.failed)
        return RequestStatus.PROCESSING

    @classmethod
    def of(cls, statuses: Iterable[ImageStatus]) -> "ProductProgress":
        statuses = list(statuses)
        return cls(len(statuses), statuses.count(ImageStatus.OPTIMIZED), statuses.count(ImageStatus.FAILED))


@dataclass(frozen=True, slots=True)
class RequestFinished:
    """Raised when the last image of a request is recorded: its webhooks are announced."""

    request_id: UUID


@dataclass
class UploadRequest:
    """One uploaded CSV: its products, their images, and how far processing has come.

    Jobs are created from the products a slice at a time (`expanded_line` is how far, up to
    `last_line`). Recording outcomes updates the counters; the outcome of the last image
    finishes the request and raises `RequestFinished`. A caller may cancel it (its images not
    yet started are cancelled, the ones in flight still count when they end) or, once it has
    finished with failed images, retry those: the request reopens and finishes again.
    """

    id: UUID
    options: OptimizationOptions
    created_at: datetime
    tenant_id: UUID = field(kw_only=True)
    product_count: int = 0
    image_count: int = 0
    last_line: int = 0
    expanded_line: int = 0
    status: RequestStatus = RequestStatus.PENDING
    started_at: datetime | None = None
    finished_at: datetime | None = None
    optimized: int = 0
    failed: int = 0
    cancelled: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    products_finished: int = 0
    products_with_errors: int = 0
    events: list[RequestFinished] = field(default_factory=list, compare=False, repr=False)

    def expanded_through(self, line: int, now: datetime) -> None:
        """Jobs now exist for every product up to `line`; the first ones start the request."""
        self.expanded_line = max(self.expanded_line, line)
        if self.status is RequestStatus.PENDING:
            self.status = check_request_transition(self.status, RequestStatus.PROCESSING)
            self.started_at = now

    @property
    def waiting(self) -> int:
        """Images not yet finished: pending, or held by a worker."""
        return self.image_count - self.optimized - self.failed - self.cancelled

    def record(self, outcomes: Iterable[ImageOutcome], products: Iterable[ProductProgress], now: datetime) -> None:
        """Count terminal `outcomes` of this request and the `products` they belong to.

        `products` is the progress of each product these outcomes touched, as it stands with
        them; a finished one is counted here, and only here, because its last image is among them.
        A cancelled request still counts the images that were in flight when it was cancelled.
        """
        cancelled = self.status is RequestStatus.CANCELLED
        if self.status.is_terminal and not cancelled:
            raise IllegalTransition(f"request {self.id} is {self.status}; it has no image left to record")
        for outcome in outcomes:
            if outcome.status is ImageStatus.OPTIMIZED:
                self.optimized += 1
                self.bytes_in += outcome.output.result.bytes_in
                self.bytes_out += outcome.output.result.bytes_out
            elif outcome.status is ImageStatus.FAILED:
                self.failed += 1
            elif outcome.status is ImageStatus.CANCELLED:
                self.cancelled += 1
        for product in products:
            if product.finished:
                self.products_finished += 1
                self.products_with_errors += product.failed > 0
        if not cancelled and self.waiting == 0:
            self._finish(now)

    def settle(self, outcome: ImageOutcome) -> ImageOutcome:
        """What an attempt's outcome comes to here: a cancelled request tries nothing again."""
        if self.status is RequestStatus.CANCELLED and not outcome.status.is_terminal:
            return outcome.cancelled()
        return outcome

    def cancel(self, in_flight: int, now: datetime) -> None:
        """Cancel every image not yet finished but the `in_flight` ones workers hold; announce it at once."""
        self.status = check_request_transition(self.status, RequestStatus.CANCELLED)
        self.cancelled += self.waiting - in_flight
        self.expanded_line = self.last_line  # no more jobs are made from its products
        self.finished_at = now
        self.events.append(RequestFinished(self.id))

    def reopen(self, retried: int, products: int) -> None:
        """`retried` failed images, of `products` products, are queued again; the request runs until they end."""
        if not 0 < retried <= self.failed or products > self.products_with_errors:
            raise IllegalTransition(f"request {self.id} has {self.failed} failed images to retry, not {retried}")
        self.status = check_request_transition(self.status, RequestStatus.PROCESSING)
        self.failed -= retried
        self.products_finished -= products
        self.products_with_errors -= products
        self.finished_at = None

    def _finish(self, now: datetime) -> None:
        self.status = check_request_transition(
            self.status, outcome_status(self.image_count, self.optimized, self.failed)
        )
        self.finished_at = now
        self.events.append(RequestFinished(self.id))
