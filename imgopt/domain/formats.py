"""The image formats imgopt opens, recognised by their first bytes rather than by any header."""

from enum import StrEnum


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    GIF = "gif"
    WEBP = "webp"
    TIFF = "tiff"
    AVIF = "avif"

    @property
    def media_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is ImageFormat.JPEG else self.value


SNIFF_BYTES = 32
_AVIF_BRANDS = (b"avif", b"avis")


def sniff(head: bytes) -> ImageFormat | None:
    """The allow-listed format whose signature `head` starts with, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ImageFormat.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return ImageFormat.TIFF
    if head[4:8] == b"ftyp" and (head[8:12] in _AVIF_BRANDS or any(b in head[16:32] for b in _AVIF_BRANDS)):
        return ImageFormat.AVIF
    return None


def describe_unknown(head: bytes) -> str:
    """A short guess at what a refused payload is, for the failure reason."""
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if text.startswith(b"<?xml") or text.startswith(b"<svg"):
        return "XML or SVG (not allowed)"
    if text.startswith((b"{", b"[")):
        return "JSON"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head[4:8] == b"ftyp":
        return f"an ISO media file ({head[8:12].decode('ascii', 'replace')}), not AVIF"
    if head.startswith(b"BM"):
        return "a BMP image (not allowed)"
    return "not a recognised image format"
