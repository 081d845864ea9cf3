"""GET and HEAD /files/{key} through the real API: streamed from a folder, redirected to a presigned URL in S3."""

import dataclasses

import httpx
import pytest
from dependency_injector import providers

from imgopt.adapters.storage.locations import open_storage
from imgopt.bootstrap.containers import create_container
from imgopt.entrypoints.http.app import create_app
from imgopt.entrypoints.http.server import BackgroundServer, free_port
from tests.support import corpus_bytes

KEY = "0b2f6a5f-8981-41c3-92f2-0794f3c6c4ea/41c3.jpg"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(params=["filesystem", "s3"])
def served(request, settings, clean_database, tmp_path):
    """(API base URL, its storage, the kind of storage), the API serving outputs from that storage."""
    if request.param == "filesystem":
        url, environ = (tmp_path / "files").as_uri(), {}
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        url, environ = f"s3://{request.getfixturevalue('s3_bucket')}/outputs", endpoint.environment
    port = free_port()
    settings = dataclasses.replace(settings, public_base_url=f"http://127.0.0.1:{port}", storage_url=url)
    container = create_container(settings, environ=environ)
    container.persistence.engine.override(clean_database)
    with BackgroundServer(create_app(container, settings), port=port) as server:
        yield server.url, container.imaging.storage(), request.param
    container.persistence.engine.reset_override()


def test_an_output_is_fetched_by_its_stable_url_with_its_type_and_a_long_cache(served):
    base, storage, kind = served
    photo = corpus_bytes("small-320x240.jpg")
    url = storage.put(KEY, photo, "image/jpeg")

    first = httpx.get(url)
    followed = httpx.get(url, follow_redirects=True)

    assert url == f"{base}/files/{KEY}"
    if kind == "filesystem":
        assert first.status_code == 200
    else:
        assert first.status_code == 307 and first.headers["location"].startswith("http://127.0.0.1:")
        assert "X-Amz-Signature=" in first.headers["location"]
    assert followed.status_code == 200 and followed.content == photo
    assert followed.headers["content-type"] == "image/jpeg"
    assert followed.headers["cache-control"] == IMMUTABLE


def test_head_answers_size_and_type_without_a_body(served):
    base, storage, _ = served
    photo = corpus_bytes("small-320x240.jpg")
    storage.put(KEY, photo, "image/jpeg")

    response = httpx.head(f"{base}/files/{KEY}")

    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(len(photo))
    assert response.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("path", ["nothing/here.jpg", "../../etc/passwd", "a/.incoming-x", "%2e%2e/secret.jpg"])
def test_unknown_or_impossible_keys_are_a_404_problem(served, path):
    base, _, _ = served

    responses = [httpx.get(f"{base}/files/{path}"), httpx.head(f"{base}/files/{path}")]

    assert [response.status_code for response in responses] == [404, 404]
    problem = responses[0].json()
    assert responses[0].headers["content-type"] == "application/problem+json"
    assert (problem["status"], problem["code"]) == (404, "not_found")


def test_storage_that_cannot_answer_is_a_503_problem_that_does_not_name_the_store(settings, clean_database, tmp_path):
    (tmp_path / "a-file").write_bytes(b"")
    port = free_port()
    settings = dataclasses.replace(settings, public_base_url=f"http://127.0.0.1:{port}")
    container = create_container(settings)
    container.persistence.engine.override(clean_database)
    broken = open_storage((tmp_path / "a-file" / "files").as_uri(), f"http://127.0.0.1:{port}/files", environ={})
    container.imaging.storage.override(providers.Object(broken))

    with BackgroundServer(create_app(container, settings), port=port) as server:
        response = httpx.get(f"{server.url}/files/{KEY}")

    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert "a-file" not in response.text
    container.persistence.engine.reset_override()
