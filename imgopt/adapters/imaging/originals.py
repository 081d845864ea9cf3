"""The never-larger rule: when an original is handed back instead of its re-encoding, and in what form."""

from imgopt.adapters.imaging.metadata import without_metadata
from imgopt.adapters.imaging.targets import WEB_READY
from imgopt.domain.formats import ImageFormat

# GIF has no place for EXIF or GPS; an AVIF's metadata sits in boxes this does not edit, so one carrying
# any is re-encoded instead.
_AS_IS = frozenset({ImageFormat.GIF, ImageFormat.AVIF})


def unchanged_original(data: bytes, source: ImageFormat, encoded_size: int, described: bool) -> bytes | None:
    """The original without EXIF, XMP and IPTC when it is no larger than `encoded_size`; None to use the encoding.

    `described`: whether the decoder found EXIF or XMP in it.
    """
    if source not in WEB_READY:
        return None
    if source in _AS_IS:
        kept = None if described and source is ImageFormat.AVIF else data
    else:
        kept = without_metadata(data, source)
    return kept if kept is not None and len(kept) <= encoded_size else None
