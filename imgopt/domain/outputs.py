"""Outputs: an optimized image as stored, which any number of images may point to."""

from dataclasses import dataclass

from imgopt.domain.image_results import ImageResult


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image's output: where it is stored, where it is served, and what it is."""

    key: str
    url: str
    result: ImageResult
