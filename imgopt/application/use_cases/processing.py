"""Process one image in two stages: download it; optimize it and store the result."""

import logging
from dataclasses import dataclass

from imgopt.application.ports import (
    Clock,
    FetchedImage,
    FetchFailed,
    ImageFetcher,
    ImageOptimizer,
    ImageStorage,
    OptimizeFailed,
    RandomSource,
    StorageFailed,
)
from imgopt.domain.image_jobs import FailureClass, ImageFailure, ImageJob, ImageOutcome, RetryPolicy, StoredImage
from imgopt.domain.lifecycle import ImageStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProcessImage:
    """What one attempt at one image came to; a failure is an outcome, never an exception.

    An image whose workers kept dying while holding it is failed without being fetched again:
    it may be what killed them. An image that fails for good leaves no output behind, even one
    an earlier attempt stored before its worker died. Transient failures are tried again later,
    at a moment the retry policy spreads at random.
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
        try:
            return self.fetcher.fetch(job.url)
        except FetchFailed as exc:
            return self._failed(job, exc.failure)
        except Exception as exc:  # a bug must cost one image an attempt, never the worker
            return self._failed(job, _unexpected(job, exc))

    def finish(self, job: ImageJob, fetched: FetchedImage) -> ImageOutcome:
        """The second stage, on the CPU: optimize the downloaded bytes and store the result."""
        try:
            image = self.optimizer.optimize(fetched.data, job.options)
            key = job.output_key(image.extension)
            url = self.storage.put(key, image.data, image.media_type)
        except OptimizeFailed as exc:
            failure = ImageFailure(str(exc), kind=FailureClass.IMAGE)
        except StorageFailed as exc:
            failure = ImageFailure(f"could not store the output: {exc}", transient=True, kind=FailureClass.STORAGE)
        except Exception as exc:  # a bug must cost one image an attempt, never the worker
            failure = _unexpected(job, exc)
        else:
            return job.succeeded(StoredImage(key, url, image.result(bytes_in=len(fetched.data))))
        return self._failed(job, failure)

    def _failed(self, job: ImageJob, failure: ImageFailure) -> ImageOutcome:
        outcome = job.failed(failure, self.retry, self.clock.now(), self.random.fraction())
        if outcome.status is ImageStatus.FAILED:
            try:
                self.storage.delete(job.output_keys())
            except StorageFailed as exc:  # the storage is away: the failure still stands, the stray file is logged
                log.warning("could not remove the earlier outputs of a failed image: %s", exc, extra=_ids(job))
        return outcome


def _unexpected(job: ImageJob, exc: Exception) -> ImageFailure:
    log.exception("unexpected error processing an image", extra=_ids(job), exc_info=exc)
    return ImageFailure(f"unexpected error: {type(exc).__name__}", transient=True, kind=FailureClass.INTERNAL)


def _ids(job: ImageJob) -> dict[str, object]:
    return {"request_id": str(job.request_id), "image_id": job.id}
