"""The Python subjects of the kernel benchmarks: imgopt's optimizer and bare Pillow loops, run on threads."""

import io
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from imgopt.adapters.imaging.pillow import PillowOptimizer
from imgopt.adapters.imaging.vips import VipsOptimizer
from imgopt.bootstrap.settings import Settings
from imgopt.bootstrap.tuning import keep_freed_memory
from imgopt.domain.options import OptimizationOptions

Kernel = Callable[[bytes], bytes]


ADAPTERS = {"pillow": PillowOptimizer, "vips": lambda **settings: VipsOptimizer(PillowOptimizer(**settings))}
DEFAULT_ADAPTER = Settings().optimizer


def imgopt_optimizer(options: OptimizationOptions, adapter: str = DEFAULT_ADAPTER) -> Kernel:
    """The project's optimizer (the default adapter unless named), in the process set up as `imgopt worker` does.

    The allocator setting is process-wide, so the bare Pillow loops measured in this process get
    it too: they are compared with the best Pillow can do here, not with a handicapped one.
    """
    keep_freed_memory()
    optimizer = ADAPTERS[adapter](max_pixels=Settings().max_pixels)
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


def run_threads(kernel: Kernel, inputs: list[bytes], pool: ThreadPoolExecutor) -> tuple[float, float, list[bytes]]:
    """Wall and CPU seconds to push every input through `kernel` on `pool`'s threads, and the outputs in order.

    The pool lives as long as the caller keeps it, as a worker's threads do: new threads each round
    would each start on an allocator arena of their own, a cost no long-running process pays.
    CPU time is the whole process's, which is these threads' alone: the caller only waits meanwhile.
    """
    cpu_start, start = time.process_time(), time.perf_counter()
    outputs = list(pool.map(kernel, inputs))
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    return seconds, cpu_seconds, outputs
