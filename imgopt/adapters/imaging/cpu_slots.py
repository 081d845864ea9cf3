"""An optimizer that lets only so many images be optimized at once, however many threads ask."""

import threading

from imgopt.application.ports import ImageOptimizer, OptimizedImage
from imgopt.domain.options import OptimizationOptions


class CpuBoundOptimizer(ImageOptimizer):
    """Optimizing is CPU work and downloading is waiting: a worker runs more threads than cores so
    that downloads overlap encoding, and this keeps the encoding itself to `slots` at a time."""

    def __init__(self, optimizer: ImageOptimizer, slots: int) -> None:
        self._optimizer = optimizer
        self._slots = threading.BoundedSemaphore(slots)

    def optimize(self, data: bytes, options: OptimizationOptions) -> OptimizedImage:
        with self._slots:
            return self._optimizer.optimize(data, options)
