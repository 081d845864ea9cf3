"""Image jobs: one image of one product, what an attempt on it came to, and when to try again."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from imgopt.domain.formats import ImageFormat
from imgopt.domain.lifecycle import ImageStatus, check_image_transition
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.outputs import StoredImage
from imgopt.domain.sources import SourceFetch, SourceTurn


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Transient failures are retried with exponential backoff and jitter, up to `max_attempts` in all.

    The delays grow from `first_delay` by `factor` up to `max_delay` (by default 30 s, 2 min,
    8 min: about ten minutes in all), so an origin or a storage away for a few minutes costs
    retries, not images. Each delay is spread by ±`jitter` of itself, so images that failed
    together are not all tried again at the same moment.
    """

    max_attempts: int = 4
    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 4.0
    max_delay: timedelta = timedelta(minutes=30)
    jitter: float = 0.25

    def next_attempt_at(self, attempts: int, now: datetime, spread: float = 0.5) -> datetime | None:
        """When to try again after `attempts` attempts, or None when they are used up.

        `spread`, drawn uniformly from [0, 1), places the delay in its jitter band (0.5: the middle).
        """
        if attempts >= self.max_attempts:
            return None
        delay = min(self.first_delay * self.factor ** max(attempts - 1, 0), self.max_delay)
        return now + delay * (1 + self.jitter * (2 * spread - 1))


class FailureClass(StrEnum):
    """Where an attempt failed: few enough kinds to count by."""

    FETCH = "fetch"  # the origin or the network on the way to it
    IMAGE = "image"  # the bytes: not an image, not an allowed format, corrupt, too many pixels
    STORAGE = "storage"
    ABANDONED = "abandoned"  # the workers holding it kept dying
    INTERNAL = "internal"  # a bug


@dataclass(frozen=True, slots=True)
class ImageFailure:
    """Why an image could not be optimized; transient failures are worth another attempt."""

    reason: str
    transient: bool = False
    kind: FailureClass = FailureClass.FETCH
    # The origin's own word on when to ask again (its Retry-After, capped), in seconds: a transient
    # failure is retried then rather than on the policy's schedule.
    retry_after: float | None = None
    # False when the image was never tried: its download waited for its origin's turn (every slot
    # taken, or the origin resting). Such a try does not count against the image's attempts.
    charged: bool = True


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
    failure: FailureClass | None = None
    # What the attempt learnt of the image's source, to remember with the output (and to give up the fetch it held).
    source: SourceFetch | None = None

    @property
    def reused(self) -> bool:
        return self.output is not None and self.output.result.reused

    def reuse_lost(self, now: datetime) -> "ImageOutcome":
        """A reuse whose output went meanwhile (its last other image was purged): the image is done again, at once,
        and this attempt does not count."""
        status = check_image_transition(ImageStatus.PROCESSING, ImageStatus.PENDING)
        reason = "the output it was to reuse was removed meanwhile; optimizing it again"
        source = SourceFetch(self.source.key) if self.source else None
        attempts = max(self.attempts - 1, 0)
        return ImageOutcome(self.job_id, self.request_id, self.line, status, attempts, None, reason, now, source=source)

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
    # Claimed when no more images of its request were left to claim than were in flight: the request
    # may finish with it, so its outcome is worth recording at once.
    finishing: bool = False
    tenant_id: UUID | None = None  # whose upload it is: a worker caps each tenant's downloads
    # The random name its output is stored under, drawn when the image was queued, so that one shared link
    # does not reveal its siblings; None for images queued before names were random, which keep their id.
    output_name: str | None = None
    source: SourceTurn | None = None  # what the claim found of its source (None: not looked up)

    def output_key(self, extension: str) -> str:
        """Where this image's output is stored: the same key on every attempt, so a repeat replaces it."""
        return f"{self.request_id}/{self.output_name or self.id}.{extension}"

    def output_keys(self) -> list[str]:
        """Every key an attempt on this image may have stored an output under."""
        return [self.output_key(extension) for extension in dict.fromkeys(f.extension for f in ImageFormat)]

    def succeeded(self, output: StoredImage, source: SourceFetch | None = None) -> ImageOutcome:
        status = check_image_transition(self.status, ImageStatus.OPTIMIZED)
        return ImageOutcome(self.id, self.request_id, self.line, status, self.attempts, output=output, source=source)

    def reused(self, output: StoredImage, source: SourceFetch) -> ImageOutcome:
        """Done by pointing at the output of an earlier image of the same source: nothing optimized, nothing stored."""
        return self.succeeded(replace(output, result=replace(output.result, reused=True)), source)

    def failed(self, failure: ImageFailure, policy: RetryPolicy, now: datetime, spread: float = 0.5) -> ImageOutcome:
        attempts = self.attempts if failure.charged else max(self.attempts - 1, 0)
        retry_at = policy.next_attempt_at(attempts, now, spread) if failure.transient else None
        if retry_at is not None and failure.retry_after is not None:
            # No earlier than the origin asked, spread a little later so its images do not all return at once.
            retry_at = now + timedelta(seconds=failure.retry_after * (1 + policy.jitter * spread / 2))
        if retry_at is None:
            status = check_image_transition(self.status, ImageStatus.FAILED)
            reason = failure.reason
            if failure.transient and attempts > 1:
                reason = f"{reason} (gave up after {attempts} attempts)"
        else:
            status = check_image_transition(self.status, ImageStatus.PENDING)
            reason = failure.reason
        return ImageOutcome(
            self.id,
            self.request_id,
            self.line,
            status,
            attempts,
            reason=reason,
            next_attempt_at=retry_at,
            failure=failure.kind,
            source=SourceFetch(self.source.key) if self.source else None,
        )

    def handed_back(self) -> ImageOutcome:
        """What a claim that hands the image straight back (never begun) came to: pending as before, its attempt
        not counted, and the fetch of its source it took given up."""
        status = check_image_transition(self.status, ImageStatus.PENDING)
        source = SourceFetch(self.source.key) if self.source else None
        return ImageOutcome(self.id, self.request_id, self.line, status, max(self.attempts - 1, 0), source=source)

    def released(self) -> "ImageJob":
        """Handed back unprocessed (the worker is stopping); the attempt does not count."""
        return replace(
            self,
            status=check_image_transition(self.status, ImageStatus.PENDING),
            attempts=max(self.attempts - 1, 0),
        )
