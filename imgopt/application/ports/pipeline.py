"""The image pipeline: fetch an image, optimize it, store the result."""

import abc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from imgopt.domain.image_jobs import ImageFailure
from imgopt.domain.image_results import ImageResult
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.sources import Validators


@dataclass(frozen=True, slots=True)
class FetchedImage:
    data: bytes
    media_type: str
    validators: Validators = Validators()  # the origin's ETag and Last-Modified, to ask back next time


@dataclass(frozen=True, slots=True)
class NotModified:
    """The origin's 304 to a conditional fetch: what was fetched before is still what it serves."""

    validators: Validators = Validators()


class FetchFailed(Exception):
    """A download that did not yield an image; `failure.transient` says whether to retry.

    `status`: the origin's HTTP status, when it answered with one.
    """

    def __init__(self, failure: ImageFailure, status: int | None = None) -> None:
        super().__init__(failure.reason)
        self.failure = failure
        self.status = status


@dataclass(frozen=True, slots=True)
class OriginSlot:
    """One of the few downloads an origin gets at once from all workers together, leased to this one."""

    origin: str
    slot: int


class OriginResting(Exception):
    """The origin asked to be left alone (429 or 503 with Retry-After) for `seconds` more."""

    def __init__(self, origin: str, seconds: float) -> None:
        super().__init__(f"{origin} asked to be left alone for {seconds:.1f} s more")
        self.origin = origin
        self.seconds = seconds


class OriginSlots(abc.ABC):
    """How many downloads each origin gets at once from every worker together, and when it may be asked again.

    Shared by all workers (the database); a slot is leased, so a worker that dies holding one
    loses it when the lease ends.
    """

    @abc.abstractmethod
    def take(self, origin: str) -> OriginSlot | None:
        """A slot of `origin`, or None when all are taken; OriginResting while it asked to be left alone."""

    @abc.abstractmethod
    def give_back(self, slot: OriginSlot) -> None: ...

    @abc.abstractmethod
    def rest(self, origin: str, seconds: float) -> None:
        """Leave `origin` alone for `seconds`: no worker takes a slot of it, nor claims its images, until then."""


class ImageFetcher(abc.ABC):
    @abc.abstractmethod
    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage | NotModified:
        """The image at `url`, or FetchFailed; asked with `known` validators, NotModified when the origin
        says the image is unchanged."""


@dataclass(frozen=True, slots=True)
class OptimizedImage:
    """The bytes an optimizer made, the file extension they take, and what they are: the image's
    `result` (media type, bytes in and out, dimensions, and what auto quality chose)."""

    data: bytes
    extension: str
    result: ImageResult

    def __post_init__(self) -> None:
        if self.result.bytes_out != len(self.data):
            raise ValueError(f"the result says {self.result.bytes_out} bytes out, the output has {len(self.data)}")


class OptimizeFailed(Exception):
    """The bytes are not an image we can open and re-encode; never transient."""


class ImageOptimizer(abc.ABC):
    @abc.abstractmethod
    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        """A smaller (or, failing that, the original) encoding of `data`, or OptimizeFailed."""

    @property
    @abc.abstractmethod
    def producer(self) -> str:
        """What makes its outputs what they are, as one string: the engine, the version of its encoding
        and tables, the settings that change an output (auto quality's target). Outputs remembered under
        another producer are not reused (domain.sources): the image is fetched and optimized again."""


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
