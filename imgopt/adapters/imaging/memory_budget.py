"""An optimizer that admits images by the memory their pixels take, so a worker's peak stays under a budget."""

import contextlib
import ctypes
import ctypes.util
import io
import logging
import threading
from collections.abc import Callable, Iterator

import pyvips
from PIL import Image

from imgopt.application.ports import ImageOptimizer, OptimizedImage
from imgopt.domain.options import OptimizationOptions

log = logging.getLogger(__name__)

# Bytes a sample takes in each libvips band format.
_SAMPLE_BYTES = {
    "uchar": 1, "char": 1, "ushort": 2, "short": 2, "uint": 4, "int": 4,
    "float": 4, "complex": 8, "double": 8, "dpcomplex": 16,
}  # fmt: skip
# An image is in memory about this many times over while it is optimized: the decoded pixels, the
# resized or converted copy, and the encoder's (or the quality search's) buffers.
PIPELINE_COPIES = 3
# After an image counted at this much or more, the freed heap goes back to the kernel: below it the
# worker keeps its padding for the next image (bootstrap.tuning.keep_freed_memory).
TRIM_ABOVE_BYTES = 256 * 1024 * 1024


def decoded_bytes(data: bytes) -> int:
    """width x height x bands x bytes per sample, read from the header only (nothing is decoded); 0
    when neither libvips nor Pillow can read a header (the optimizer then says what is wrong)."""
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        pages = header.get_n_pages() if header.get_typeof("n-pages") else 1
        return header.width * header.height * pages * header.bands * _SAMPLE_BYTES.get(header.format, 1)
    except pyvips.Error:
        pass
    try:
        with Image.open(io.BytesIO(data)) as image:
            wide = 2 if image.mode.startswith("I;16") else 4 if image.mode in ("I", "F") else 1
            return image.width * image.height * len(image.getbands()) * wide * getattr(image, "n_frames", 1)
    except Exception:  # noqa: BLE001 - any header Pillow cannot read costs nothing here
        return 0


class MemoryBudget:
    """Bytes handed out to images at once, never over `limit` — but an image alone always goes,
    whatever it costs (the pixel limit bounds it), so none waits forever."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self.waiting = 0  # images waiting for room now
        self._changed = threading.Condition()

    @property
    def used(self) -> int:
        return self._used

    @contextlib.contextmanager
    def admitted(self, cost: int) -> Iterator[None]:
        with self._changed:
            self.waiting += 1
            self._changed.wait_for(lambda: self._used == 0 or self._used + cost <= self.limit)
            self.waiting -= 1
            self._used += cost
        try:
            yield
        finally:
            with self._changed:
                self._used -= cost
                self._changed.notify_all()


def release_freed_memory() -> bool:
    """Hand the C heap's free pages back to the kernel (glibc's malloc_trim(0)); False where there is none."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        trim = None
    if trim is None:
        return False
    trim(0)
    return True


class MemoryBoundedOptimizer(ImageOptimizer):
    """Each image waits until its pixels (`measure`, times PIPELINE_COPIES) fit in the `budget`
    beside the images being optimized; after one of `trim_above` bytes or more the freed heap goes
    back to the kernel (`trim`), so one large image does not keep the worker's memory high."""

    def __init__(
        self,
        optimizer: ImageOptimizer,
        budget: MemoryBudget,
        trim_above: int,
        measure: Callable[[bytes], int] = decoded_bytes,
        trim: Callable[[], bool] = release_freed_memory,
    ) -> None:
        self._optimizer = optimizer
        self._budget = budget
        self._trim_above = trim_above
        self._measure = measure
        self._trim = trim

    @property
    def producer(self) -> str:
        return self._optimizer.producer

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        cost = self._measure(data) * PIPELINE_COPIES
        try:
            with self._budget.admitted(cost):
                return self._optimizer.optimize(data, options)
        finally:
            if cost >= self._trim_above:
                self._trim()
