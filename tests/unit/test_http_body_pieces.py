"""The API reads a body a mebibyte at a time, whatever pieces the server receives it in, and still whole."""

import asyncio
import hashlib
import json

from litestar import Litestar, Request, post

from imgopt.entrypoints.http.request import BODY_PIECE_BYTES, GuardedRequest

SERVER_PIECE = 16 * 1024


@post("/pieces", request_max_body_size=None)
async def pieces(request: Request) -> dict:
    sizes, digest = [], hashlib.sha256()
    async for piece in request.stream():
        sizes.append(len(piece))
        digest.update(piece)
    return {"sizes": sizes, "sha256": digest.hexdigest()}


APP = Litestar([pieces], request_class=GuardedRequest)


def post_in_pieces(body: bytes, path: str = "/pieces") -> tuple[int, dict]:
    """POST `body` to APP as a server would pass it on: SERVER_PIECE bytes per ASGI message."""
    messages = [
        {"type": "http.request", "body": body[start : start + SERVER_PIECE], "more_body": True}
        for start in range(0, len(body), SERVER_PIECE)
    ] + [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    asyncio.run(APP(scope, receive, send))
    status = next(message["status"] for message in sent if message["type"] == "http.response.start")
    payload = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return status, json.loads(payload)


def test_small_pieces_are_joined_into_mebibytes_and_the_stream_still_ends_with_an_empty_piece():
    body = bytes(range(256)) * (BODY_PIECE_BYTES * 5 // 2 // 256)  # two and a half mebibytes

    status, answer = post_in_pieces(body)

    assert status == 201
    sizes = answer["sizes"]
    assert answer["sha256"] == hashlib.sha256(body).hexdigest()
    assert sizes[-1] == 0 and sum(sizes) == len(body)
    assert all(size >= BODY_PIECE_BYTES for size in sizes[:-2]) and len(sizes) == 4
    assert 0 < sizes[-2] < BODY_PIECE_BYTES


def test_a_body_smaller_than_a_piece_arrives_as_one_piece():
    status, answer = post_in_pieces(b"x" * (3 * SERVER_PIECE + 5))

    assert status == 201
    assert answer["sizes"] == [3 * SERVER_PIECE + 5, 0]


def test_an_empty_body_is_only_the_closing_empty_piece():
    status, answer = post_in_pieces(b"")

    assert status == 201
    assert answer["sizes"] == [0]
