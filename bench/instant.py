"""Fakes of the image ports for the queue-capacity measurement: no CPU spent on images, so the queue shows."""

import time

from imgopt.application.ports import FetchedImage, ImageFetcher, ImageOptimizer, OptimizedImage
from imgopt.domain.image_results import ImageResult
from imgopt.domain.options import OptimizationOptions
from imgopt.domain.sources import Validators

# What an output weighs does not matter to the queue; a JPEG's first bytes keep it honest to look at.
TINY_JPEG = b"\xff\xd8\xff\xe0" + bytes(252)


class InstantOptimizer(ImageOptimizer):
    """Answers at once with a tiny JPEG: a host whose images cost nothing to optimize."""

    producer = "instant/1"

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        return OptimizedImage(TINY_JPEG, "jpg", ImageResult("image/jpeg", len(data), len(TINY_JPEG), 1, 1))


class MemoryFetcher(ImageFetcher):
    """Answers every URL with the same bytes, at once: a host whose origin is infinitely fast."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def fetch(self, url: str, known: Validators = Validators()) -> FetchedImage:
        return FetchedImage(self._data, "image/jpeg")


class PacedOptimizer(ImageOptimizer):
    """Takes as long as the real kernel but sleeps instead of computing: a real host's pace, without its CPU."""

    producer = "paced/1"

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        time.sleep(self._seconds)
        return OptimizedImage(TINY_JPEG, "jpg", ImageResult("image/jpeg", len(data), len(TINY_JPEG), 1, 1))
