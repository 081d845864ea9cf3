"""A scratch database for one measurement: on IMGOPT_BENCH_DATABASE_URL, the machine's PostgreSQL, or embedded."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import psycopg
from sqlalchemy import Engine

from bench.workspace import work_dir
from imgopt.adapters.postgres.embedded import embedded_postgres_url
from imgopt.adapters.postgres.engine import libpq_url
from tests.postgres import create_database, drop_database, empty_imgopt_tables

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


def empty_tables(engine: Engine) -> None:
    """Every row of imgopt's tables gone, the schema kept: the next step of a measurement starts clean."""
    with engine.begin() as connection:
        empty_imgopt_tables(connection)


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


def backend_cpu(database_url: str) -> dict[int, float] | None:
    """CPU seconds (user + system) used so far by each PostgreSQL backend connected to `database_url`.

    None when the backends are not processes of this host (a remote server, or one in a container
    whose process ids mean nothing here): each id is checked to be a postgres process serving this
    database before its time is read. The asking connection itself is left out.
    """
    with psycopg.connect(database_url, autocommit=True) as connection:
        name, pids = connection.execute(
            "SELECT current_database(), array_agg(pid) FILTER (WHERE pid <> pg_backend_pid()) "
            "FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchone()
    times = {}
    for pid in pids or []:
        try:
            process = psutil.Process(pid)
            if name not in " ".join(process.cmdline()):
                return None
            cpu = process.cpu_times()
        except psutil.NoSuchProcess:
            continue  # it ended between the query and now, or it lives in another pid namespace
        except psutil.AccessDenied:
            return None
        times[pid] = cpu.user + cpu.system
    # Backends that all vanished on the way are ids of another namespace (a container), not a fast exit.
    return None if pids and not times else times


def backend_cpu_used(before: dict[int, float] | None, after: dict[int, float] | None) -> float | None:
    """CPU seconds the backends used between two `backend_cpu` readings (a backend new since `before` counts whole)."""
    if before is None or after is None:
        return None
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
