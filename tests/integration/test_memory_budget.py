"""The memory budget on real images: admitted by their decoded size read from the header, never over the budget."""

import platform
import threading

import pyvips

from imgopt.adapters.imaging.memory_budget import (
    PIPELINE_COPIES,
    MemoryBoundedOptimizer,
    MemoryBudget,
    decoded_bytes,
    release_freed_memory,
)
from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.application.ports import ImageOptimizer, OptimizedImage
from imgopt.domain.options import OptimizationOptions
from tests.support import corpus_bytes, wait_for

SIDE = 1200


def rgba16_png(shade: int) -> bytes:
    """A SIDE x SIDE RGBA image of 16-bit samples, as PNG: small on disk, 11.5 MB decoded."""
    image = (pyvips.Image.black(SIDE, SIDE, bands=4) + shade).cast("ushort").copy(interpretation="rgb16")
    return image.pngsave_buffer(compression=1)


class Admitted(ImageOptimizer):
    """The real optimizer, each call held until the test lets it go; counts the calls in at once."""

    def __init__(self, optimizer: ImageOptimizer) -> None:
        self._optimizer = optimizer
        self._lock = threading.Lock()
        self.inside = self.most = 0
        self.go = threading.Semaphore(0)

    @property
    def producer(self) -> str:
        return self._optimizer.producer

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            self.go.acquire(timeout=60)
            return self._optimizer.optimize(data, options)
        finally:
            with self._lock:
                self.inside -= 1


def test_the_decoded_size_is_read_from_the_header_with_its_bands_and_bytes_per_sample():
    assert decoded_bytes(rgba16_png(100)) == SIDE * SIDE * 4 * 2
    photo = pyvips.Image.new_from_buffer(corpus_bytes("small-320x240.jpg"), "")
    assert decoded_bytes(corpus_bytes("small-320x240.jpg")) == photo.width * photo.height * photo.bands
    assert decoded_bytes(b"not an image") == 0


def test_three_images_near_the_limit_under_a_budget_of_two_are_never_optimized_three_at_once():
    images = [rgba16_png(shade) for shade in (1000, 20000, 40000)]
    cost = decoded_bytes(images[0]) * PIPELINE_COPIES
    budget = MemoryBudget(limit=2 * cost + cost // 2)  # room for two, not three
    inner = Admitted(PillowOptimizer())
    optimizer = MemoryBoundedOptimizer(inner, budget, trim_above=cost)
    results: list[OptimizedImage] = []
    threads = [
        threading.Thread(target=lambda data=data: results.append(optimizer.optimize(data, OptimizationOptions())))
        for data in images
    ]
    for thread in threads:
        thread.start()

    wait_for(lambda: inner.inside == 2 and budget.waiting == 1, message="two admitted, the third waiting")
    assert budget.used == 2 * cost
    inner.go.release()  # one finishes: the third goes in
    wait_for(lambda: budget.waiting == 0, message="the third admitted")
    inner.go.release(2)
    for thread in threads:
        thread.join(60)

    assert inner.most == 2
    assert len(results) == 3 and all(result.result.width == SIDE for result in results)
    assert budget.used == 0


def test_an_image_larger_than_the_whole_budget_still_goes_alone():
    data = rgba16_png(5000)
    budget = MemoryBudget(limit=1)
    result = MemoryBoundedOptimizer(PillowOptimizer(), budget, trim_above=1).optimize(data, OptimizationOptions())
    assert result.result.width == SIDE and budget.used == 0


def test_freed_memory_is_handed_back_where_the_c_library_can():
    assert release_freed_memory() is (platform.libc_ver()[0] == "glibc")
