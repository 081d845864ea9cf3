"""What only the filesystem adapter does: files a web server can read, and sweeping what killed writers left."""

import os
import stat
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest

from imgopt.adapters.storage.filesystem import FilesystemStorage

KEY = "0b2f6a5f-8981-41c3-92f2-0794f3c6c4ea/41c3.jpg"


@contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def storage(tmp_path) -> FilesystemStorage:
    return FilesystemStorage(tmp_path / "files", "http://imgopt.test/files")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_are_readable_by_everyone_and_their_folders_listable_under_the_usual_umask(storage):
    with umask(0o022):
        storage.put(KEY, b"\xff\xd8\xff image", "image/jpeg")

    assert mode(storage.root / KEY) == 0o644
    assert mode((storage.root / KEY).parent) == 0o755


def test_a_stricter_umask_is_respected(storage):
    with umask(0o027):
        storage.put(KEY, b"\xff\xd8\xff image", "image/jpeg")

    assert mode(storage.root / KEY) == 0o640
    assert mode((storage.root / KEY).parent) == 0o750


def test_a_write_leaves_no_temporary_file_behind(storage):
    storage.put(KEY, b"\xff\xd8\xff image", "image/jpeg")

    assert [path.name for path in (storage.root / KEY).parent.iterdir()] == ["41c3.jpg"]


def test_sweeping_removes_only_temporary_files_older_than_the_limit(storage):
    storage.put(KEY, b"\xff\xd8\xff image", "image/jpeg")
    folder = (storage.root / KEY).parent
    abandoned, in_progress = folder / ".incoming-abandoned", folder / ".incoming-in-progress"
    abandoned.write_bytes(b"half an ima")
    in_progress.write_bytes(b"half an ima")
    an_hour_ago = time.time() - 3600
    os.utime(abandoned, (an_hour_ago, an_hour_ago))

    removed = storage.sweep(older_than=timedelta(minutes=15))

    assert removed == 1
    assert not abandoned.exists() and in_progress.exists() and (storage.root / KEY).exists()


def test_deleting_the_last_output_of_a_request_removes_its_folder(storage):
    storage.put(KEY, b"\xff\xd8\xff image", "image/jpeg")

    storage.delete([KEY])

    assert list(storage.root.iterdir()) == []
