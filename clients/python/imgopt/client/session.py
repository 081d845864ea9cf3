"""HTTP with the API: one connection pool, JSON decoded into structs, errors raised as problem documents."""

from pathlib import Path
from typing import TypeVar

import httpx
import msgspec

from imgopt.client.errors import ApiError, ConnectionFailed
from imgopt.client.models import Problem

T = TypeVar("T")


class ApiSession:
    """Requests to one base URL, with the caller's key, answering structs or raising `ImgoptError`s."""

    def __init__(
        self, base_url: str, key: str | None, timeout: float, transport: httpx.BaseTransport | None = None
    ) -> None:
        headers = {"User-Agent": "imgopt-client", "Accept": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout, transport=transport)

    def call(self, kind: type[T], method: str, path: str, **kwargs: object) -> T:
        return msgspec.json.decode(self.send(method, path, **kwargs).content, type=kind)

    def send(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        _raise_for_problem(response)
        return response

    def download(self, path: str, target: Path) -> Path:
        """Stream the body into `target`, which is written whole or not at all."""
        partial = target.with_name(target.name + ".partial")
        try:
            with self._http.stream("GET", path) as response:
                if not response.is_success:
                    response.read()
                    _raise_for_problem(response)
                with partial.open("wb") as file:
                    for chunk in response.iter_bytes():
                        file.write(chunk)
            partial.replace(target)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        finally:
            partial.unlink(missing_ok=True)
        return target

    def close(self) -> None:
        self._http.close()

    def _unreachable(self, exc: httpx.TransportError) -> ConnectionFailed:
        reason = str(exc) or type(exc).__name__
        return ConnectionFailed(f"could not reach the imgopt API at {self.base_url}: {reason}")


def _raise_for_problem(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        problem = msgspec.json.decode(response.content, type=Problem)
    except msgspec.DecodeError:  # a ValidationError is one too
        # Not one of ours (a proxy's error page, say): keep the start of what it said.
        text = response.text.strip()[:300] or response.reason_phrase
        problem = Problem(status=response.status_code, title=response.reason_phrase, detail=text)
    raise ApiError(problem)
