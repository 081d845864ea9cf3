"""Where the tests' S3-compatible server comes from: IMGOPT_TEST_S3_ENDPOINT, else MinIO in Docker, else SeaweedFS."""

import os
import secrets
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from imgopt.entrypoints.demo.s3_endpoint import S3Endpoint
from imgopt.entrypoints.demo.seaweedfs import EmbeddedSeaweedFS
from tests.postgres import docker_engine_answers

MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"


@contextmanager
def s3_for_tests(scratch: Callable[[], Path]):
    """An S3Endpoint on which the tests may create buckets, and stop it afterwards if it was started here."""
    configured = os.environ.get("IMGOPT_TEST_S3_ENDPOINT")
    if configured:
        # A server of the developer's: the identity comes from the standard variables, as for any S3 client.
        yield S3Endpoint(
            configured,
            os.environ["AWS_ACCESS_KEY_ID"],
            os.environ["AWS_SECRET_ACCESS_KEY"],
            os.environ.get("AWS_REGION", "us-east-1"),
        )
    elif docker_engine_answers():
        with _minio_in_docker() as endpoint:
            yield endpoint
    else:
        with EmbeddedSeaweedFS(scratch()) as server:
            yield server.endpoint


@contextmanager
def _minio_in_docker():
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    user, password = "imgopt", secrets.token_urlsafe(24)
    container = (
        DockerContainer(MINIO_IMAGE)
        .with_command("server /data")
        .with_env("MINIO_ROOT_USER", user)
        .with_env("MINIO_ROOT_PASSWORD", password)
        .with_exposed_ports(9000)
        .waiting_for(HttpWaitStrategy(9000, "/minio/health/ready"))
    )
    with container:
        host, port = container.get_container_host_ip(), container.get_exposed_port(9000)
        yield S3Endpoint(f"http://{host}:{port}", user, password)
