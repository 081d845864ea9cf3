"""GET and HEAD /files/{key}: an output streamed from the filesystem, or a redirect to a fresh presigned URL."""

import logging
from collections.abc import Callable
from typing import Annotated, TypeVar

from litestar import Controller, HttpMethod, Response, get, head, route
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Redirect, Stream

from imgopt.adapters.storage.object_keys import IMMUTABLE
from imgopt.application.ports import ImageStorage, StorageFailed, StoredObject
from imgopt.bootstrap.settings import FILES_PATH
from imgopt.entrypoints.http.errors import ApiError
from imgopt.entrypoints.http.openapi import FILES, FileDescription, FileDownload, problems

log = logging.getLogger(__name__)
_ERRORS = problems(
    400,
    404,
    503,
    meanings={
        400: "Malformed request (`bad_request`)",
        404: "No output is stored under this key (`not_found`)",
        503: "The output storage does not answer (`storage_unavailable`)",
    },
)
T = TypeVar("T")
KeyPath = Annotated[
    str, Parameter(description="The output URL's path after `/files/`: `{requestId}/{imageId}.{ext}`", min_length=1)
]
# Well inside the presigned URL's hour, so a cached redirect never points at an expired signature.
REDIRECT_CACHE = "private, max-age=300"


class FilesController(Controller):
    path = FILES_PATH
    tags = [FILES]  # noqa: RUF012 (Litestar reads it as a class attribute)

    @get(
        "/{key:path}",
        sync_to_thread=True,
        operation_id="download_file",
        operation_class=FileDownload,
        summary="An optimized image (or a redirect to it in object storage)",
        responses=_ERRORS,
    )
    def download(self, key: KeyPath, storage: NamedDependency[ImageStorage]) -> Response:
        key = key.lstrip("/")
        stored = _found(key, _asking(storage.stat, key))
        url = _asking(storage.signed_url, key)
        if url:
            return Redirect(url, status_code=307, headers={"Cache-Control": REDIRECT_CACHE})
        chunks = _found(key, _asking(storage.read, key))
        return Stream(chunks, media_type=stored.media_type, headers=_headers(stored))

    @head(
        "/{key:path}",
        sync_to_thread=True,
        operation_id="describe_file",
        operation_class=FileDescription,
        summary="The size and type of an optimized image",
        responses=_ERRORS,
    )
    def describe(self, key: KeyPath, storage: NamedDependency[ImageStorage]) -> Response[None]:
        key = key.lstrip("/")
        stored = _found(key, _asking(storage.stat, key))
        return Response(b"", media_type=stored.media_type, headers=_headers(stored))

    # Litestar 2 answers OPTIONS on a path of two handlers with the methods of the first only (litestar#4169, fixed
    # in 3). This handler says all; its name sorts first, so it is registered before Litestar would add its own.
    @route("/{key:path}", http_method=HttpMethod.OPTIONS, include_in_schema=False)
    async def allow(self) -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": "GET, HEAD, OPTIONS"})


def _asking(method: Callable[[str], T], key: str) -> T | None:
    """What the storage answers for `key`; None for a key it could never hold, 503 when it cannot answer."""
    try:
        return method(key)
    except ValueError:
        return None
    except StorageFailed as exc:
        # The reason names buckets and endpoints: it goes to the log, not to the client.
        log.warning("GET/HEAD %s/%s: %s", FILES_PATH, key, exc)
        raise ApiError(503, "storage_unavailable", "the output storage is not answering; try again later") from None


def _found(key: str, answer: T | None) -> T:
    if answer is None:
        raise ApiError(404, "not_found", f"no output is stored under {key!r}")
    return answer


def _headers(stored: StoredObject) -> dict[str, str]:
    return {"Content-Length": str(stored.size), "Cache-Control": IMMUTABLE}
