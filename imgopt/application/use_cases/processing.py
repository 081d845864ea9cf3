"""Process one image: fetch it, optimize it, store the result."""

import logging

from imgopt.application.ports import (
    Clock,
    FetchFailed,
    ImageFetcher,
    ImageOptimizer,
    ImageStorage,
    OptimizeFailed,
    StorageFailed,
)
from imgopt.domain.model import ImageFailure, ImageJob, ImageOutcome, RetryPolicy, StoredImage

log = logging.getLogger(__name__)


class ProcessImage:
    """What one attempt at one image came to; a failure is an outcome, never an exception.

    An image whose workers kept dying while holding it is failed without being fetched again:
    it may be what killed them.
    """

    def __init__(
        self, fetcher: ImageFetcher, optimizer: ImageOptimizer, storage: ImageStorage, clock: Clock, retry: RetryPolicy
    ) -> None:
        self._fetcher = fetcher
        self._optimizer = optimizer
        self._storage = storage
        self._clock = clock
        self._retry = retry

    def __call__(self, job: ImageJob) -> ImageOutcome:
        if job.attempts > self._retry.max_attempts:
            failure = ImageFailure(f"abandoned: the worker holding it stopped {job.attempts - 1} times")
            return job.failed(failure, self._retry, self._clock.now())
        try:
            fetched = self._fetcher.fetch(job.url)
            image = self._optimizer.optimize(fetched.data, job.options)
            key = f"{job.request_id}/{job.id}.{image.extension}"
            url = self._storage.put(key, image.data, image.media_type)
        except FetchFailed as exc:
            failure = exc.failure
        except OptimizeFailed as exc:
            failure = ImageFailure(str(exc))
        except StorageFailed as exc:
            failure = ImageFailure(f"could not store the output: {exc}", transient=True)
        except Exception as exc:  # a bug must cost one image an attempt, never the worker
            log.exception("unexpected error processing image %s of request %s", job.id, job.request_id)
            failure = ImageFailure(f"unexpected error: {type(exc).__name__}", transient=True)
        else:
            output = StoredImage(
                key, url, image.media_type, len(fetched.data), len(image.data), image.width, image.height
            )
            return job.succeeded(output)
        return job.failed(failure, self._retry, self._clock.now())
