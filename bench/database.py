"""A scratch database for one measurement: on IMGOPT_BENCH_DATABASE_URL, the machine's PostgreSQL, or embedded."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from bench.workspace import work_dir
from imgopt.adapters.postgres.engine import libpq_url
from imgopt.adapters.postgres.provision import create_database, drop_database, embedded_postgres_url

MACHINE_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_database(purpose: str) -> Iterator[str]:
    """The URL of a new, empty database, dropped when the block ends."""
    server = server_url()
    name = f"imgopt_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    url = create_database(server, name)
    try:
        yield url
    finally:
        drop_database(server, name)


def server_url() -> str:
    configured = os.environ.get("IMGOPT_BENCH_DATABASE_URL")
    if configured:
        return libpq_url(configured)
    if _answers(MACHINE_POSTGRES):
        return MACHINE_POSTGRES
    return embedded_postgres_url(work_dir("postgres"))


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False
