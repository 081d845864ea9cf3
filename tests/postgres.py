"""Where the tests' (and the benchmarks') PostgreSQL comes from: a URL, Docker when it answers, else embedded."""

import os
import socket
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from sqlalchemy import Connection, text


def docker_engine_answers(timeout: float = 1.0) -> bool:
    """Whether a Docker engine answers on DOCKER_HOST or the default socket, without waiting long."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host.startswith("unix://"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(host.removeprefix("unix://"))
                sock.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return b"200 OK" in sock.recv(64)
        if host.startswith("tcp://"):
            address = urlsplit(host)
            with socket.create_connection((address.hostname, address.port or 2375), timeout=timeout):
                return True
    except OSError:
        return False
    return False


def container_postgres_url() -> tuple[str, Callable[[], None]]:
    """A throwaway PostgreSQL in Docker (testcontainers) and the function that removes it."""
    from testcontainers.postgres import PostgresContainer

    container = PostgresContainer("postgres:16-alpine", driver=None).start()
    return container.get_connection_url(), container.stop


def database_url(server_url: str, database: str) -> str:
    """The URL of `database` on the server at `server_url`."""
    return urlunsplit(urlsplit(server_url)._replace(path="/" + database))


def create_database(server_url: str, database: str) -> str:
    """Create an empty database on the server at `server_url`; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return database_url(server_url, database)


def drop_database(server_url: str, database: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


# Every table of imgopt's schema, read from the schema itself (so a migration's new table is emptied too),
# but the migrations' own bookkeeping; tenants are kept to the one a migration makes.
_IMGOPT_TABLES = text(
    """
    SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
    WHERE schemaname = 'images' AND tablename NOT IN ('alembic_version', 'tenants')
    ORDER BY tablename
    """
)


def empty_imgopt_tables(connection: Connection) -> None:
    """Every row of imgopt's tables gone, the schema kept (and its anonymous tenant): a clean start."""
    tables = ", ".join(connection.execute(_IMGOPT_TABLES).scalars())
    connection.execute(text(f"TRUNCATE {tables}"))
    connection.execute(text("DELETE FROM images.tenants WHERE name <> 'anonymous'"))
