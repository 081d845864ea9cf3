"""The Python subjects of the kernel benchmarks: imgopt's optimizer and bare Pillow loops, run on threads."""

import io
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from imgopt.domain.options import OptimizationOptions

Kernel = Callable[[bytes], bytes]


class Unavailable(Exception):
    """A subject that cannot run here; the message is shown in its place."""


def imgopt_optimizer(options: OptimizationOptions) -> Kernel:
    """The project's optimizer, imported lazily: it lives on another branch until the lead merges it."""
    try:
        from imgopt.adapters.imaging.pillow import PillowOptimizer
    except ModuleNotFoundError as exc:
        # Only a missing module means "not here yet"; any other import error is a real failure.
        if exc.name in ("imgopt.adapters.imaging", "imgopt.adapters.imaging.pillow"):
            raise Unavailable("optimizer not available on this branch") from exc
        raise
    from imgopt.bootstrap.settings import Settings

    optimizer = PillowOptimizer(max_pixels=Settings().max_pixels)
    return lambda data: optimizer.optimize(data, options).data


def pillow_reencode(quality: int) -> Kernel:
    """The original's job in bare Pillow: open, save as JPEG at `quality`, nothing else."""

    def run(data: bytes) -> bytes:
        output = io.BytesIO()
        with Image.open(io.BytesIO(data)) as image:
            image.save(output, "JPEG", quality=quality)
        return output.getvalue()

    return run


def pillow_resize(size: tuple[int, int], quality: int) -> Kernel:
    """sharp's task in bare Pillow: DCT-domain draft decode, Lanczos resize, JPEG at `quality`."""

    def run(data: bytes) -> bytes:
        output = io.BytesIO()
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", size)
            image.resize(size, Image.Resampling.LANCZOS).save(output, "JPEG", quality=quality)
        return output.getvalue()

    return run


def run_threads(kernel: Kernel, inputs: list[bytes], workers: int) -> tuple[float, float, list[bytes]]:
    """Wall and CPU seconds to push every input through `kernel` on `workers` threads, and the outputs in order.

    CPU time is the whole process's, which is these threads' alone: the caller only waits meanwhile.
    """
    with ThreadPoolExecutor(workers) as pool:
        cpu_start, start = time.process_time(), time.perf_counter()
        outputs = list(pool.map(kernel, inputs))
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return seconds, cpu_seconds, outputs
