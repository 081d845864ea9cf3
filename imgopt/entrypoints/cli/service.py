"""What each CLI command runs."""

import argparse
import logging
import signal
from collections.abc import Callable

import uvicorn

from imgopt.adapters.metrics.registry import MetricsServer
from imgopt.adapters.postgres.engine import migrate as apply_migrations
from imgopt.bootstrap.containers import Container, create_container
from imgopt.bootstrap.database import with_database
from imgopt.bootstrap.settings import Settings, SettingsError
from imgopt.bootstrap.tuning import keep_freed_memory, settle_garbage_collector
from imgopt.domain.durations import parse_duration
from imgopt.entrypoints.http.app import create_app
from imgopt.entrypoints.worker.process import build_worker

log = logging.getLogger("imgopt")


def prepare(settings: Settings, migrate: bool = True) -> tuple[Settings, Container]:
    """Settings with a database chosen, and the container on it, migrated unless told otherwise."""
    settings = with_database(settings)
    container = create_container(settings)
    if migrate:
        apply_migrations(container.persistence.engine())
    return settings, container


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    _, container = prepare(settings)
    container.shutdown_resources()
    log.info("the database schema is up to date")
    return 0


def purge(settings: Settings, args: argparse.Namespace) -> int:
    try:
        older_than = parse_duration(args.older_than)
    except ValueError as exc:
        raise SettingsError(f"--older-than: {exc}") from None
    _, container = prepare(settings)
    try:
        purged = container.use_cases.purge_requests()(older_than)
    finally:
        container.shutdown_resources()
    print(f"purged {purged} requests that finished more than {args.older_than} ago")
    return 0


def api(settings: Settings, args: argparse.Namespace) -> int:
    settings, container = prepare(settings, migrate=not args.no_migrate)
    app = create_app(container, settings)
    settle_garbage_collector()
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", log_config=None)
    return 0


def serve(settings: Settings, args: argparse.Namespace) -> int:
    settings, container = prepare(settings, migrate=not args.no_migrate)
    keep_freed_memory()
    worker = build_worker(container, settings)
    # The worker stops before the container releases the engine, the pools and the HTTP clients it uses.
    app = create_app(container, settings, on_shutdown=[worker.stop])
    settle_garbage_collector()
    # uvicorn handles SIGTERM and SIGINT while it runs, then raises the signal again into the handler
    # it found: with the default one there, the process would die before the worker could stop.
    _on_stop_signals(worker.request_stop)
    worker.start()
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", log_config=None)
    finally:
        worker.stop()
    return 0


def work(settings: Settings, args: argparse.Namespace) -> int:
    settings, container = prepare(settings, migrate=not args.no_migrate)
    keep_freed_memory()
    worker = build_worker(container, settings)
    # `serve` has the API's /metrics; a worker alone serves its own, when asked to.
    metrics = MetricsServer(container.telemetry.registry(), settings.metrics_port) if settings.metrics_port else None
    _on_stop_signals(worker.request_stop)
    worker.start()
    if metrics:
        log.info("metrics at http://0.0.0.0:%d/metrics", metrics.port)
    worker.wait()
    if metrics:
        metrics.close()
    container.shutdown_resources()
    return 0


def _on_stop_signals(stop: Callable[[], None]) -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop())
