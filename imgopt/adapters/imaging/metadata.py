"""Removing EXIF, XMP and IPTC (GPS positions, camera serials, names) from a file without re-encoding it.

Used when an original is handed back unchanged (a re-encoding would be larger): its pixels and its
ICC profile stay byte for byte, everything that describes the shot or the person goes.
"""

import struct

from imgopt.domain.formats import ImageFormat

# APP1 holds EXIF and XMP, APP13 Photoshop's IPTC; COM is free text. APP2 (ICC) and APP14 (Adobe colour) stay.
_JPEG_DROPPED = frozenset({0xE1, 0xED, 0xFE})
_PNG_DROPPED = frozenset({b"eXIf", b"tEXt", b"iTXt", b"zTXt"})
_WEBP_DROPPED = frozenset({b"EXIF", b"XMP "})
_WEBP_EXIF_AND_XMP_FLAGS = 0x08 | 0x04


class UnreadableLayout(ValueError):
    """The file's segments or chunks do not add up, so nothing can be safely cut out of it."""


def without_metadata(data: bytes, fmt: ImageFormat) -> bytes | None:
    """`data` without EXIF, XMP and IPTC, or None for a format this cannot edit (the caller re-encodes)."""
    strip = {ImageFormat.JPEG: _jpeg, ImageFormat.PNG: _png, ImageFormat.WEBP: _webp}.get(fmt)
    if strip is None:
        return None
    try:
        return strip(data)
    except (UnreadableLayout, struct.error, IndexError):
        return None


def _jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise UnreadableLayout("no SOI marker")
    kept, position = [data[:2]], 2
    while True:
        if data[position] != 0xFF:
            raise UnreadableLayout(f"no marker at {position}")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker == 0xDA:  # start of scan: entropy-coded data follows, and no more metadata
            kept.append(data[position:])
            return b"".join(kept)
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if length < 2 or end > len(data):
            raise UnreadableLayout(f"segment at {position} runs past the end")
        if marker not in _JPEG_DROPPED:
            kept.append(data[position:end])
        position = end


def _png(data: bytes) -> bytes:
    kept, position = [data[:8]], 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        end = position + 12 + length
        if end > len(data):
            raise UnreadableLayout(f"chunk {kind!r} runs past the end")
        if kind not in _PNG_DROPPED:
            kept.append(data[position:end])
        position = end
        if kind == b"IEND":
            break
    return b"".join(kept)


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UnreadableLayout("not a RIFF WEBP container")
    kept, position = [], 12
    while position + 8 <= len(data):
        kind = data[position : position + 4]
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        end = position + 8 + length + (length & 1)  # chunks are padded to an even size
        if end > len(data) + (length & 1):
            raise UnreadableLayout(f"chunk {kind!r} runs past the end")
        chunk = data[position:end]
        if kind == b"VP8X":
            flags = chunk[8] & ~_WEBP_EXIF_AND_XMP_FLAGS
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind not in _WEBP_DROPPED:
            kept.append(chunk)
        position = end
    body = b"WEBP" + b"".join(kept)
    return b"RIFF" + struct.pack("<I", len(body)) + body
