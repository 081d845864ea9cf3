"""What each CLI command runs."""

import argparse
import logging

import uvicorn

from imgopt.adapters.postgres.engine import migrate as apply_migrations
from imgopt.bootstrap.containers import Container, create_container
from imgopt.bootstrap.database import with_database
from imgopt.bootstrap.settings import Settings
from imgopt.entrypoints.http.app import create_app

log = logging.getLogger("imgopt")


def _container(settings: Settings, migrate: bool) -> tuple[Settings, Container]:
    settings = with_database(settings)
    container = create_container(settings)
    if migrate:
        apply_migrations(container.persistence.engine())
    return settings, container


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    _, container = _container(settings, migrate=True)
    container.shutdown_resources()
    log.info("the database schema is up to date")
    return 0


def api(settings: Settings, args: argparse.Namespace) -> int:
    settings, container = _container(settings, migrate=not args.no_migrate)
    app = create_app(container, settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


serve = api
