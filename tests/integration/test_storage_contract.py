"""One contract, two adapters: the filesystem and a real S3-compatible server behave alike behind ImageStorage."""

from datetime import timedelta

import httpx
import pytest

from imgopt.adapters.storage.locations import open_storage
from imgopt.application.ports import StorageFailed, StoredObject
from tests.support import corpus_bytes

PUBLIC = "http://imgopt.test/files"
KEY = "0b2f6a5f-8981-41c3-92f2-0794f3c6c4ea/41c3.jpg"


@pytest.fixture(params=["filesystem", "s3"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def open_kind(kind, tmp_path, request):
    """Opens a storage of this test's kind through IMGOPT_STORAGE_URL, as the service does."""

    def open_it(prefix: str = "outputs", public_url: str = PUBLIC):
        if kind == "filesystem":
            return open_storage((tmp_path / prefix).as_uri(), public_url, environ={})
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = request.getfixturevalue("s3_bucket")
        return open_storage(f"s3://{bucket}/{prefix}", public_url, environ=endpoint.environment)

    return open_it


@pytest.fixture
def storage(open_kind):
    return open_kind()


@pytest.fixture
def photo() -> bytes:
    return corpus_bytes("small-320x240.jpg")


def test_a_stored_image_reads_back_whole_with_its_size_and_type(storage, photo):
    url = storage.put(KEY, photo, "image/jpeg")

    assert url == f"{PUBLIC}/{KEY}"
    assert storage.stat(KEY) == StoredObject(KEY, len(photo), "image/jpeg")
    assert b"".join(storage.read(KEY)) == photo


def test_storing_the_same_key_again_replaces_the_object(storage, photo):
    storage.put(KEY, b"first attempt", "image/jpeg")

    storage.put(KEY, photo, "image/jpeg")

    assert b"".join(storage.read(KEY)) == photo
    assert storage.stat(KEY).size == len(photo)


def test_an_unknown_key_is_absent_rather_than_an_error(storage):
    assert storage.stat("nothing/here.jpg") is None
    assert storage.read("nothing/here.jpg") is None


def test_deleting_many_keys_removes_them_and_ignores_keys_already_gone(storage, photo):
    kept = "request-b/3.jpg"
    for key in ("request-a/1.jpg", "request-a/2.webp", kept):
        storage.put(key, photo, "image/jpeg")

    storage.delete(["request-a/1.jpg", "request-a/2.webp", "request-a/never-stored.png"])
    storage.delete(["request-a/1.jpg"])

    assert storage.stat("request-a/1.jpg") is None and storage.stat("request-a/2.webp") is None
    assert storage.stat(kept) is not None


def test_keys_that_could_escape_the_storage_are_refused(storage, photo):
    for key in ("../etc/passwd.jpg", "/abs/olute.jpg", "a/.incoming-x.jpg", "a//b.jpg", "no-extension"):
        with pytest.raises(ValueError, match="not a storage key"):
            storage.put(key, photo, "image/jpeg")


def test_the_public_url_is_the_configured_base_and_the_key(open_kind):
    storage = open_kind(public_url="https://cdn.example.com/outputs/")

    assert storage.url_for(KEY) == f"https://cdn.example.com/outputs/{KEY}"


def test_storages_under_two_prefixes_do_not_see_each_others_objects(open_kind, photo):
    first, second = open_kind("first"), open_kind("second")

    first.put(KEY, photo, "image/jpeg")

    assert second.stat(KEY) is None


def test_sweeping_leaves_stored_objects_alone(storage, photo):
    storage.put(KEY, photo, "image/jpeg")

    storage.sweep(older_than=timedelta(0))

    assert storage.stat(KEY) is not None


def test_an_object_store_hands_out_a_presigned_url_carrying_type_and_long_cache(kind, storage, photo):
    storage.put("r/1.webp", photo, "image/webp")

    url = storage.signed_url("r/1.webp")

    if kind == "filesystem":
        assert url is None
        return
    response = httpx.get(url)
    assert response.status_code == 200 and response.content == photo
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_an_unwritable_storage_fails_every_write_with_storage_failed(kind, tmp_path, request, photo):
    if kind == "filesystem":
        (tmp_path / "a-file").write_bytes(b"")
        storage = open_storage((tmp_path / "a-file" / "outputs").as_uri(), PUBLIC, environ={})
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        storage = open_storage("s3://imgopt-no-such-bucket/x", PUBLIC, environ=endpoint.environment)

    for attempt in (
        lambda: storage.put(KEY, photo, "image/jpeg"),
        lambda: storage.stat(KEY),
        lambda: storage.read(KEY),
        lambda: storage.delete([KEY]),
    ):
        with pytest.raises(StorageFailed):
            attempt()


def test_an_unreachable_object_store_fails_with_storage_failed_naming_the_store(s3_endpoint, photo):
    from imgopt.entrypoints.http.server import free_port

    stopped = {**s3_endpoint.environment, "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{free_port()}"}
    storage = open_storage("s3://imgopt-outputs", PUBLIC, environ=stopped)

    with pytest.raises(StorageFailed, match="s3://imgopt-outputs"):
        storage.put(KEY, photo, "image/jpeg")
    with pytest.raises(StorageFailed):
        storage.stat(KEY)


def test_wrong_credentials_fail_with_storage_failed(s3_endpoint, s3_bucket, photo):
    wrong = {**s3_endpoint.environment, "AWS_SECRET_ACCESS_KEY": "not-the-secret"}
    storage = open_storage(f"s3://{s3_bucket}", PUBLIC, environ=wrong)

    with pytest.raises(StorageFailed):
        storage.put(KEY, photo, "image/jpeg")
