"""Outputs in a local folder: one host's embedded default, served by the API under /files."""

import os
import secrets
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from imgopt.adapters.storage.object_keys import checked, media_type_of
from imgopt.application.ports import ImageStorage, StorageFailed, StoredObject

INCOMING = ".incoming-"
CHUNK_BYTES = 64 * 1024


class FilesystemStorage(ImageStorage):
    def __init__(self, root: Path, public_url: str) -> None:
        self.root = Path(root)
        self._public_url = public_url.rstrip("/")

    def put(self, key: str, data: bytes, media_type: str) -> str:
        path = self._path(key)
        with self._failures("write", key):
            path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            self._write_aside_then_rename(path, data)
        return self.url_for(key)

    def url_for(self, key: str) -> str:
        return f"{self._public_url}/{checked(key)}"

    def delete(self, keys: Iterable[str]) -> None:
        folders = set()
        with self._failures("delete", "outputs"):
            for key in keys:
                path = self._path(key)
                path.unlink(missing_ok=True)
                folders.add(path.parent)
            for folder in folders - {self.root}:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()

    def stat(self, key: str) -> StoredObject | None:
        with self._failures("look up", key):
            try:
                size = self._path(key).stat().st_size
            except FileNotFoundError:
                return None
        return StoredObject(key, size, media_type_of(key))

    def read(self, key: str) -> Iterator[bytes] | None:
        with self._failures("read", key):
            try:
                file = self._path(key).open("rb")
            except FileNotFoundError:
                return None
        return _chunks(file)

    def signed_url(self, key: str) -> str | None:
        return None

    def sweep(self, older_than: timedelta) -> int:
        """Remove the temporary files of writes that a killed worker never finished."""
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        with self._failures("sweep", "unfinished writes"):
            for path in self.root.rglob(INCOMING + "*"):
                if path.lstat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    @contextmanager
    def _failures(self, action: str, what: str) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise StorageFailed(f"could not {action} {what} in {self.root}: {exc.strerror or exc}") from exc

    def _path(self, key: str) -> Path:
        return self.root / checked(key)

    @staticmethod
    def _write_aside_then_rename(path: Path, data: bytes) -> None:
        """Readers never see half a file, a repeat is harmless, and the bytes are on disk before the name is."""
        temporary = path.with_name(INCOMING + secrets.token_hex(8))
        # Created 0644 less the umask, as any file a web server may serve; mkstemp would make it 0600.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def _chunks(file) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
