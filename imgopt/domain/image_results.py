"""What optimizing one image made of it: the one list of an image's result fields."""

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class ImageResult:
    """An image's result, stated once: the queue records each field in the column of its name, the status
    reads them back, and the wire body carries them in camelCase, each derived from this list
    (`RESULT_FIELDS`); a field added here reaches all three."""

    media_type: str
    bytes_in: int
    bytes_out: int
    width: int
    height: int
    # With quality=auto: the encoder quality chosen for this image, and the SSIMULACRA2 score it reached.
    quality: int | None = None
    score: float | None = None
    # The output of an earlier image of the same unchanged source, pointed at again: nothing optimized or stored.
    reused: bool = False


RESULT_FIELDS = tuple(field.name for field in fields(ImageResult))
"""The result's field names, in order: the columns of an image's row, the keys of its status."""
