"""The image pipeline: fetch an image, optimize it, store the result."""

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from imgopt.domain.image_jobs import ImageFailure
from imgopt.domain.options import OptimizationOptions


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


class StorageFailed(Exception):
    """The storage could not be reached, refused, or is full or unwritable: worth another try later."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    media_type: str


class ImageStorage(abc.ABC):
    """Where optimized images live, under keys `{request_id}/{job_id}.{ext}`; an output never changes once written.

    Every method raises StorageFailed when the storage cannot do what is asked; a key that is
    not a storage key is a ValueError.
    """

    @abc.abstractmethod
    def put(self, key: str, data: bytes, media_type: str) -> str:
        """Store `data` under `key`, atomically and idempotently; return its public URL."""

    @abc.abstractmethod
    def url_for(self, key: str) -> str:
        """The public URL of `key`: the API's /files route, or a CDN or public bucket in front of the storage."""

    @abc.abstractmethod
    def delete(self, keys: Iterable[str]) -> None:
        """Remove these objects; keys already gone are no error, so an interrupted purge can run again."""

    @abc.abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """What is stored under `key`, or None."""

    @abc.abstractmethod
    def read(self, key: str) -> Iterator[bytes] | None:
        """The bytes under `key` in chunks, or None."""

    @abc.abstractmethod
    def signed_url(self, key: str) -> str | None:
        """A short-lived URL a client may GET the object from directly, or None when only `read` serves it."""

    @abc.abstractmethod
    def sweep(self, older_than: timedelta) -> int:
        """Remove what writes interrupted longer than `older_than` ago left behind; return how many were removed."""
