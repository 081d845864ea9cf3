"""A real PostgreSQL for the tests: IMGOPT_TEST_DATABASE_URL, else Docker, else an embedded server."""

import os
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine

from imgopt.adapters.postgres.embedded import embedded_postgres_url
from imgopt.adapters.postgres.engine import libpq_url, make_engine, migrate
from tests.postgres import (
    container_postgres_url,
    create_database,
    docker_engine_answers,
    drop_database,
    empty_imgopt_tables,
)


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server on which the tests may create databases."""
    configured = os.environ.get("IMGOPT_TEST_DATABASE_URL")
    if configured:
        yield libpq_url(configured)
    elif docker_engine_answers():
        url, stop = container_postgres_url()
        yield url
        stop()
    else:
        # Not under pytest's own temporary folder: run as root, pgserver runs the server as a user of
        # its own, which must be able to reach the data directory.
        directory = Path(tempfile.mkdtemp(prefix="imgopt-test-postgres-"))
        directory.chmod(0o755)
        yield embedded_postgres_url(directory / "data")  # stopped when the test run exits


@pytest.fixture(scope="session")
def database_url(postgres_server: str):
    """A fresh, migrated database of this test run's own, dropped at the end."""
    name = f"imgopt_test_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_server, name)
    engine = make_engine(url, pool_size=2)
    migrate(engine)
    engine.dispose()
    yield url
    drop_database(postgres_server, name)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    engine = make_engine(database_url, pool_size=8)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_database(engine: Engine) -> Engine:
    """The test run's database, emptied before the test."""
    with engine.begin() as connection:
        empty_imgopt_tables(connection)
    return engine


@pytest.fixture
def settings(database_url: str, tmp_path):
    from imgopt.bootstrap.settings import Settings

    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        public_base_url="http://imgopt.test",
        allow_private_networks=True,
        auth="off",  # the anonymous tenant; tests of keys and tenants turn it on
    )


@pytest.fixture
def container(settings, clean_database):
    """The real container on the test database: every port bound to its real adapter."""
    from imgopt.bootstrap.containers import create_container

    container = create_container(settings)
    container.persistence.engine.override(clean_database)
    yield container
    container.persistence.engine.reset_override()


@pytest.fixture
def api_settings(settings):
    """Small limits, so that the limits themselves can be tested."""
    import dataclasses

    return dataclasses.replace(settings, max_upload_bytes=256 * 1024, max_rows=500)


@pytest.fixture
def api(api_settings, clean_database):
    """The HTTP API served by uvicorn on a loopback port; yields (base URL, container)."""
    import dataclasses

    from imgopt.bootstrap.containers import create_container
    from imgopt.entrypoints.http.app import create_app
    from imgopt.entrypoints.http.server import BackgroundServer, free_port

    port = free_port()
    settings = dataclasses.replace(api_settings, public_base_url=f"http://127.0.0.1:{port}")
    container = create_container(settings)
    container.persistence.engine.override(clean_database)
    with BackgroundServer(create_app(container, settings), port=port) as server:
        yield server.url, container
    container.persistence.engine.reset_override()


@pytest.fixture(scope="session")
def corpus():
    """The shared test images folder (see tests.support.CORPUS)."""
    from tests.support import CORPUS, corpus_bytes

    corpus_bytes("SOURCES.md")
    return CORPUS


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory):
    """A real S3-compatible server for the whole run (see tests.s3), with an identity allowed to create buckets."""
    from tests.s3 import s3_for_tests

    with s3_for_tests(lambda: tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint) -> str:
    """A new, empty bucket of this test's own."""
    name = f"imgopt-test-{uuid.uuid4().hex[:12]}"
    s3_endpoint.create_bucket(name)
    return name


@pytest.fixture(scope="session")
def quick_bench(postgres_server: str, tmp_path_factory: pytest.TempPathFactory):
    """`python -m bench --quick` running beside the suite (tests.quick_bench); killed if still running at the end."""
    from tests.quick_bench import start_quick_bench

    bench = start_quick_bench(postgres_server, tmp_path_factory.mktemp("bench"))
    yield bench
    bench.stop()


@pytest.fixture(scope="session", autouse=True)
def _quick_bench_from_the_start(request: pytest.FixtureRequest):
    """Start the quick bench with the first test when its tests are among those selected."""
    from tests.quick_bench import TEST_FILE

    if any(item.path.name == TEST_FILE for item in request.session.items):
        request.getfixturevalue("quick_bench")
