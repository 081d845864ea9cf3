"""Optimized images on the local filesystem, served by the API under /files."""

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from imgopt.application.ports import ImageStorage

_KEY = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*\.[a-z0-9]+")
FILES_PATH = "/files"


class FilesystemStorage(ImageStorage):
    def __init__(self, root: Path, public_base_url: str) -> None:
        self.root = Path(root)
        self._base = public_base_url.rstrip("/") + FILES_PATH

    def put(self, key: str, data: bytes, media_type: str) -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: readers never see half a file, and a repeat is harmless.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return self.url_for(key)

    def url_for(self, key: str) -> str:
        self._path(key)
        return f"{self._base}/{key}"

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._path(key).unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key
