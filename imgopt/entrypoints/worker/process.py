"""The worker process: its loops in threads of their own, built from the container."""

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from imgopt.bootstrap.containers import Container
from imgopt.bootstrap.settings import Settings
from imgopt.entrypoints.worker.images import ImageRunner, ImageRunnerOptions
from imgopt.entrypoints.worker.loop import Loop
from imgopt.entrypoints.worker.outage import DatabaseWatch
from imgopt.entrypoints.worker.webhooks import DeliveryRunner

log = logging.getLogger(__name__)

# Deliveries wait on receivers, not on the CPU: many in flight cost little, and a few dead
# receivers cannot take every slot.
DELIVERY_SLOTS = 32
LEASE_CHECK_SECONDS = 2.0
SWEEP_SECONDS = 3600.0
RETENTION_SECONDS = 86400.0


class Worker:
    """The loops in threads of their own; `stop` lets running images finish or releases them."""

    def __init__(
        self, worker_id: str, loops: list[Loop], stop: threading.Event, on_stopped: list[Callable[[], None]]
    ) -> None:
        self.worker_id = worker_id
        self._loops = loops
        self._stop = stop
        self._on_stopped = on_stopped
        self._threads = [threading.Thread(target=loop.run, name=f"imgopt-{loop.name}") for loop in loops]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        names = ", ".join(loop.name for loop in self._loops)
        log.info("worker started: %s", names, extra={"worker_id": self.worker_id})

    def request_stop(self) -> None:
        """Safe to call from a signal handler: the loops notice within one poll interval."""
        self._stop.set()
        log.info("stop requested", extra={"worker_id": self.worker_id})

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._stopped()

    def wait(self) -> None:
        """Block until the loops end. Python runs signal handlers only when the main thread runs Python,
        and a signal the kernel hands to another thread does not wake a join that never times out."""
        while any(thread.is_alive() for thread in self._threads):
            for thread in self._threads:
                thread.join(timeout=0.2)
        self._stopped()

    def _stopped(self) -> None:
        for action in self._on_stopped:
            action()
        self._on_stopped = []
        log.info("worker stopped", extra={"worker_id": self.worker_id})


def build_worker(container: Container, settings: Settings) -> Worker:
    """The worker on `container`: images, webhooks, a watch on expired leases, and housekeeping."""
    use_cases, persistence, metrics = container.use_cases, container.persistence, container.telemetry.worker()
    stop = threading.Event()
    worker_id = container.core.worker_id()
    watch = DatabaseWatch(worker_id, on_change=metrics.database_reachable)
    images = ImageRunner(
        use_cases.claim_images(),
        use_cases.process_image(),
        use_cases.record_outcomes(),
        use_cases.release_images(),
        use_cases.extend_leases(),
        ImageRunnerOptions(
            settings.concurrency,
            settings.downloads,
            settings.tenant_downloads,
            worker_id,
            stop_grace=settings.worker_stop_grace_seconds,
            revalidation_group=settings.worker_revalidation_group,
            origin_limits=settings.origin_limits,
        ),
        metrics,
        announced=persistence.image_work().wait,
    )
    deliveries = DeliveryRunner(
        use_cases.claim_deliveries(),
        use_cases.deliver_webhook(),
        DELIVERY_SLOTS,
        stop_grace=settings.worker_stop_grace_seconds,
        metrics=metrics,
    )
    reclaim = use_cases.reclaim_expired_leases()
    interval = settings.worker_poll_seconds
    loops = [
        Loop("images", lambda: images.drain(stop), interval, stop, watch, wake=persistence.image_work().wait),
        Loop("webhooks", lambda: deliveries.drain(stop), interval, stop, watch, wake=persistence.webhook_work().wait),
        Loop("leases", lambda: metrics.reclaimed(reclaim()), LEASE_CHECK_SECONDS, stop, watch),
        Loop("sweep", use_cases.sweep_interrupted_writes(), SWEEP_SECONDS, stop, watch),
    ]
    if settings.retention_days is not None:
        purge, retention = use_cases.purge_requests(), timedelta(days=settings.retention_days)
        loops.append(Loop("retention", lambda: purge(retention), RETENTION_SECONDS, stop, watch))
    return Worker(worker_id, loops, stop, on_stopped=[images.close, deliveries.close])
