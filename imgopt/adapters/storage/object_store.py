"""Outputs in an object store through obstore: S3 and every S3-compatible server, or Google Cloud Storage."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import obstore
from obstore.exceptions import BaseError

from imgopt.adapters.storage.object_keys import IMMUTABLE, checked
from imgopt.application.ports import ImageStorage, StorageFailed, StoredObject

CHUNK_BYTES = 256 * 1024
SIGNED_URL_LIFETIME = timedelta(hours=1)


class ObstoreStorage(ImageStorage):
    """`store` is an obstore store (S3Store, GCSStore) already pointed at the bucket and prefix it names as `where`."""

    def __init__(self, store: "obstore.store.ObjectStore", where: str, public_url: str) -> None:
        self._store = store
        self._where = where
        self._public_url = public_url.rstrip("/")

    def put(self, key: str, data: bytes, media_type: str) -> str:
        attributes = {"Content-Type": media_type, "Cache-Control": IMMUTABLE}
        with self._failures("write", key):
            # One PUT, never a multipart upload: the object appears whole or not at all, and no parts are left behind.
            obstore.put(self._store, checked(key), data, attributes=attributes, use_multipart=False)
        return self.url_for(key)

    def url_for(self, key: str) -> str:
        return f"{self._public_url}/{checked(key)}"

    def delete(self, keys: Iterable[str]) -> None:
        paths = [checked(key) for key in keys]
        if not paths:
            return
        with self._failures("delete", f"{len(paths)} objects"):
            try:
                obstore.delete(self._store, paths)
            except FileNotFoundError as exc:
                if _bucket_missing(exc):
                    raise
                # S3 deletes in batches and says nothing of missing keys; GCS refuses the batch, so go one by one.
                for path in paths:
                    self._delete_if_present(path)

    def stat(self, key: str) -> StoredObject | None:
        with self._failures("look up", key):
            try:
                # One byte, not a HEAD: the 404 of a HEAD has no body to tell a missing bucket from a missing key.
                result = obstore.get(self._store, checked(key), options={"range": (0, 1)})
                result.bytes()  # read the byte, so the connection goes back to the pool
            except FileNotFoundError as exc:
                if _bucket_missing(exc):
                    raise
                return None
        content_type = result.attributes.get("Content-Type", "application/octet-stream")
        return StoredObject(key, result.meta["size"], str(content_type))

    def read(self, key: str) -> Iterator[bytes] | None:
        with self._failures("read", key):
            try:
                result = obstore.get(self._store, checked(key))
            except FileNotFoundError as exc:
                if _bucket_missing(exc):
                    raise
                return None
        return self._chunks(key, result)

    def signed_url(self, key: str) -> str | None:
        with self._failures("sign a URL for", key):
            return obstore.sign(self._store, "GET", checked(key), SIGNED_URL_LIFETIME)

    def sweep(self, older_than: timedelta) -> int:
        """Nothing to sweep: every object was written by one PUT, so there are no parts of unfinished uploads."""
        return 0

    def _delete_if_present(self, path: str) -> None:
        try:
            obstore.delete(self._store, path)
        except FileNotFoundError as exc:
            if _bucket_missing(exc):
                raise

    def _chunks(self, key: str, result: "obstore.GetResult") -> Iterator[bytes]:
        with self._failures("read", key):
            for chunk in result.stream(min_chunk_size=CHUNK_BYTES):
                yield bytes(chunk)

    @contextmanager
    def _failures(self, action: str, what: str) -> Iterator[None]:
        try:
            yield
        except (BaseError, OSError) as exc:
            raise StorageFailed(f"could not {action} {what} in {self._where}: {_reason(exc)}") from exc


def _bucket_missing(exc: FileNotFoundError) -> bool:
    """Stores answer 404 for a missing bucket as for a missing object; only the error body tells them apart."""
    return any(sign in str(exc) for sign in ("NoSuchBucket", "bucket does not exist"))


def _reason(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError) and _bucket_missing(exc):
        return "the bucket does not exist"
    # obstore's messages go on with a dump of the request; the first line says what went wrong.
    message = str(exc).strip()
    return message.splitlines()[0][:300] if message else type(exc).__name__
