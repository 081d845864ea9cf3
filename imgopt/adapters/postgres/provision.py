"""Where a PostgreSQL comes from when none is configured: Docker when it answers, else an embedded one."""

import logging
import os
import socket
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


def embedded_postgres_url(directory: Path) -> str:
    """Start (or join) a PostgreSQL server kept in `directory`, from the pgserver wheel; stopped at exit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

        directory.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(directory.resolve(), cleanup_mode="stop")
    return server.get_uri()


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


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def create_database(server_url: str, database: str) -> str:
    """Create an empty database on the server at `server_url`; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return with_database(server_url, database)


def drop_database(server_url: str, database: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
