"""Outputs: an optimized image as stored, which any number of images may point to."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StoredImage:
    key: str
    url: str
    media_type: str
    bytes_in: int
    bytes_out: int
    width: int
    height: int
    # With quality=auto: the encoder quality chosen, and the SSIMULACRA2 score it reached.
    quality: int | None = None
    score: float | None = None
    # The output of an earlier image of the same source, pointed at again: nothing was optimized or stored.
    reused: bool = False
