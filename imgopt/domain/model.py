"""Image jobs: one image of one product, what an attempt on it came to, and when to try again."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from imgopt.domain.lifecycle import ImageStatus, check_image_transition
from imgopt.domain.options import OptimizationOptions


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient failures are retried with exponential backoff, up to `max_attempts` in all."""

    max_attempts: int = 4
    first_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=5)

    def next_attempt_at(self, attempts: int, now: datetime) -> datetime | None:
        if attempts >= self.max_attempts:
            return None
        return now + min(self.first_delay * 2 ** max(attempts - 1, 0), self.max_delay)


@dataclass(frozen=True, slots=True)
class ImageFailure:
    """Why an image could not be optimized; transient failures are worth another attempt."""

    reason: str
    transient: bool = False


@dataclass(frozen=True, slots=True)
class StoredImage:
    key: str
    url: str
    media_type: str
    bytes_in: int
    bytes_out: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ImageOutcome:
    """What one attempt on an image came to; the repository persists exactly this."""

    job_id: int
    request_id: UUID
    line: int
    status: ImageStatus
    attempts: int
    output: StoredImage | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None

    def cancelled(self) -> "ImageOutcome":
        """A retry that will not happen: its request was cancelled meanwhile."""
        status = check_image_transition(self.status, ImageStatus.CANCELLED)
        return replace(self, status=status, reason="cancelled", next_attempt_at=None)


@dataclass(frozen=True, slots=True)
class ImageJob:
    """One image of one product, claimed by a worker until `lease_until`."""

    id: int
    request_id: UUID
    line: int
    position: int
    url: str
    attempts: int
    options: OptimizationOptions = field(default_factory=OptimizationOptions)
    status: ImageStatus = ImageStatus.PROCESSING

    def succeeded(self, output: StoredImage) -> ImageOutcome:
        status = check_image_transition(self.status, ImageStatus.OPTIMIZED)
        return ImageOutcome(self.id, self.request_id, self.line, status, self.attempts, output=output)

    def failed(self, failure: ImageFailure, policy: RetryPolicy, now: datetime) -> ImageOutcome:
        retry_at = policy.next_attempt_at(self.attempts, now) if failure.transient else None
        if retry_at is None:
            status = check_image_transition(self.status, ImageStatus.FAILED)
            reason = failure.reason
            if failure.transient and self.attempts > 1:
                reason = f"{reason} (gave up after {self.attempts} attempts)"
        else:
            status = check_image_transition(self.status, ImageStatus.PENDING)
            reason = failure.reason
        return ImageOutcome(
            self.id, self.request_id, self.line, status, self.attempts, reason=reason, next_attempt_at=retry_at
        )

    def released(self) -> "ImageJob":
        """Handed back unprocessed (the worker is stopping); the attempt does not count."""
        return replace(
            self,
            status=check_image_transition(self.status, ImageStatus.PENDING),
            attempts=max(self.attempts - 1, 0),
        )
