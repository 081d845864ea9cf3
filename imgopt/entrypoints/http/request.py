"""The request class: bodies that Litestar's decoders choke on are 400s, not a RecursionError or UnicodeDecodeError."""

from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict

from imgopt.entrypoints.http.errors import ApiError


class GuardedRequest(Request):
    """msgspec decodes JSON recursively, so `[[[[…]]]]` a thousand deep exhausts the stack; Litestar decodes every
    form field without a filename as text in the charset it names, so bytes that are not that text raise."""

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
