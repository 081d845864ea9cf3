"""Process one image in two stages: download it (or find it unchanged); optimize it and store the result."""

import hashlib
import logging
from dataclasses import dataclass

from imgopt.application.ports import (
    Clock,
    FetchedImage,
    FetchFailed,
    ImageFetcher,
    ImageOptimizer,
    ImageStorage,
    NotModified,
    OptimizeFailed,
    RandomSource,
    StorageFailed,
)
from imgopt.domain.image_jobs import FailureClass, ImageFailure, ImageJob, ImageOutcome, RetryPolicy, StoredImage
from imgopt.domain.lifecycle import ImageStatus
from imgopt.domain.sources import WAIT_FOR_SOURCE_SECONDS, SourceFetch, SourcePlan, Validators

log = logging.getLogger(__name__)

_WAITING_FOR_SOURCE = ImageFailure(
    "another image of the same source is being fetched; this one takes its output",
    transient=True,
    retry_after=WAIT_FOR_SOURCE_SECONDS,
    charged=False,
)


@dataclass(frozen=True, slots=True)
class ProcessImage:
    """What one attempt at one image came to; a failure is an outcome, never an exception.

    An image whose workers kept dying while holding it is failed without being fetched again:
    it may be what killed them. An image that fails for good leaves no output behind, even one
    an earlier attempt stored before its worker died. Transient failures are tried again later,
    at a moment the retry policy spreads at random.

    An image whose source was fetched before (`job.source`, domain.sources) costs only what changed:
    the origin is asked whether it changed (If-None-Match / If-Modified-Since), and a 304, or the same
    bytes again, reuses the output made of them: nothing is optimized or stored. One the same upload
    fetched already is not asked at all; one another image is fetching right now waits for it in the
    queue. A failure removes only outputs of the image's own, never one it would have reused.
    """

    fetcher: ImageFetcher
    optimizer: ImageOptimizer
    storage: ImageStorage
    clock: Clock
    retry: RetryPolicy
    random: RandomSource

    def __call__(self, job: ImageJob) -> ImageOutcome:
        fetched = self.download(job)
        return fetched if isinstance(fetched, ImageOutcome) else self.finish(job, fetched)

    def download(self, job: ImageJob) -> FetchedImage | ImageOutcome:
        """The first stage, waiting on the origin: the image's bytes, or the outcome of a failed download.

        The worker runs it on threads of its own, so a slow origin holds no optimizing thread.
        """
        if job.attempts > self.retry.max_attempts:
            reason = f"abandoned: the worker holding it stopped {job.attempts - 1} times"
            return self._failed(job, ImageFailure(reason, kind=FailureClass.ABANDONED))
        turn = job.source
        plan = turn.plan(job.request_id) if turn is not None else SourcePlan.FETCH
        if plan is SourcePlan.WAIT:
            return self._failed(job, _WAITING_FOR_SOURCE)
        remembered = turn.remembered if turn is not None else None
        if plan is SourcePlan.REUSE:
            unasked = SourceFetch(turn.key, remembered.validators, remembered.content_sha256)
            return job.reused(remembered.output, unasked)
        try:
            fetched = self.fetcher.fetch(job.url, remembered.validators if remembered else Validators())
        except FetchFailed as exc:
            return self._failed(job, exc.failure)
        except Exception as exc:  # a bug must cost one image an attempt, never the worker
            return self._failed(job, _unexpected(job, exc))
        if remembered is None:
            return fetched
        if isinstance(fetched, NotModified):
            validators = remembered.validators.updated_by(fetched.validators)
            return job.reused(remembered.output, SourceFetch(turn.key, validators, remembered.content_sha256))
        digest = _sha256(fetched.data)
        if digest != remembered.content_sha256:
            return fetched
        return job.reused(remembered.output, SourceFetch(turn.key, fetched.validators, digest))

    def finish(self, job: ImageJob, fetched: FetchedImage) -> ImageOutcome:
        """The second stage, on the CPU: optimize the downloaded bytes and store the result."""
        try:
            image = self.optimizer.optimize(fetched.data, job.options)
            key = job.output_key(image.extension)
            url = self.storage.put(key, image.data, image.result.media_type)
        except OptimizeFailed as exc:
            failure = ImageFailure(str(exc), kind=FailureClass.IMAGE)
        except StorageFailed as exc:
            failure = ImageFailure(f"could not store the output: {exc}", transient=True, kind=FailureClass.STORAGE)
        except Exception as exc:  # a bug must cost one image an attempt, never the worker
            failure = _unexpected(job, exc)
        else:
            output = StoredImage(key, url, image.result)
            if job.source is None:
                return job.succeeded(output)
            return job.succeeded(output, SourceFetch(job.source.key, fetched.validators, _sha256(fetched.data)))
        return self._failed(job, failure)

    def _failed(self, job: ImageJob, failure: ImageFailure) -> ImageOutcome:
        outcome = job.failed(failure, self.retry, self.clock.now(), self.random.fraction())
        if outcome.status is ImageStatus.FAILED:
            try:
                self.storage.delete(job.output_keys())
            except StorageFailed as exc:  # the storage is away: the failure still stands, the stray file is logged
                log.warning("could not remove the earlier outputs of a failed image: %s", exc, extra=_ids(job))
        return outcome


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _unexpected(job: ImageJob, exc: Exception) -> ImageFailure:
    log.exception("unexpected error processing an image", extra=_ids(job), exc_info=exc)
    return ImageFailure(f"unexpected error: {type(exc).__name__}", transient=True, kind=FailureClass.INTERNAL)


def _ids(job: ImageJob) -> dict[str, object]:
    return {"request_id": str(job.request_id), "image_id": job.id}
