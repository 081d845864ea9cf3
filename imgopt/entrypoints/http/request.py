"""The request class: bodies that Litestar's decoders choke on are 400s, not a RecursionError or UnicodeDecodeError,
and a body read a mebibyte at a time."""

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict

from imgopt.entrypoints.http.errors import ApiError

# An uploaded file spills from memory to a temporary file past 1 MiB, and from then on Litestar hands
# each piece of the body to a thread to write: pieces as the server reads them (tens of KiB) cost a
# 100,000-row CSV 59 ms of handing over, pieces of a mebibyte 20 ms.
BODY_PIECE_BYTES = 1 << 20


class GuardedRequest(Request):
    """msgspec decodes JSON recursively, so `[[[[…]]]]` a thousand deep exhausts the stack; Litestar decodes every
    form field without a filename as text in the charset it names, so bytes that are not that text raise."""

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """The body in pieces of at least BODY_PIECE_BYTES but the last, then b"" (as Litestar's own stream ends).

        The size limit is still Litestar's, checked as each piece arrives from the server.
        """
        pieces: list[bytes] = []
        held = 0
        async for piece in super().stream():
            if piece:
                pieces.append(piece)
                held += len(piece)
                if held < BODY_PIECE_BYTES:
                    continue
            if pieces:
                yield b"".join(pieces)
                pieces, held = [], 0
            if not piece:
                yield b""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ApiError(400, "bad_request", "the JSON body is nested too deeply to read") from None

    async def form(self) -> FormMultiDict:
        try:
            return await super().form()
        except (UnicodeDecodeError, LookupError) as exc:
            raise ApiError(
                400, "bad_request", f"a form field is not text in the charset it declares (UTF-8 if none): {exc}"
            ) from None
