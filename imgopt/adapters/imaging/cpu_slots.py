"""An optimizer that lets only so many images be optimized at once, however many threads ask."""

import threading

from imgopt.application.ports import ImageOptimizer, OptimizedImage
from imgopt.domain.options import OptimizationOptions


class CpuBoundOptimizer(ImageOptimizer):
    """Optimizing is CPU work: this keeps it to `slots` images at a time however many threads call
    (a library caller running `process_image` on threads of its own; the worker's optimizing pool
    has as many threads as slots, and downloads on other threads)."""

    def __init__(self, optimizer: ImageOptimizer, slots: int) -> None:
        self._optimizer = optimizer
        self._slots = threading.BoundedSemaphore(slots)

    @property
    def producer(self) -> str:
        return self._optimizer.producer

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        with self._slots:
            return self._optimizer.optimize(data, options)
