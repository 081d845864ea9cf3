"""Storage keys: relative, slash-separated names that no filesystem or bucket can misread."""

import re

from imgopt.domain.formats import ImageFormat

# Segments of letters, digits, `_` and `-`, ending in an extension: no `..`, no leading dot, no absolute path.
_KEY = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*\.[a-z0-9]+")
_MEDIA_TYPES = {fmt.extension: fmt.media_type for fmt in ImageFormat} | {"jpeg": ImageFormat.JPEG.media_type}
IMMUTABLE = "public, max-age=31536000, immutable"
"""Cache-Control of every output: keyed by image, so an output never changes once written."""


def checked(key: str) -> str:
    """`key`, or ValueError when it is not a storage key."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def media_type_of(key: str) -> str:
    return _MEDIA_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
