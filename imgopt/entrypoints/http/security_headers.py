"""Security headers on every response the API sends, errors and 404s included.

`X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer` always; a strict
`Content-Security-Policy` (nothing may load, nothing may frame it) on every response that has none
of its own. The console's page and the `/schema` docs pages set their own, which are kept.
"""

from litestar.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"))


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` (an ASGI response's) with the security headers it lacks."""
    present = {name.lower(): value for name, value in headers}
    added = [(name, value) for name, value in ALWAYS if name not in present]
    if b"content-security-policy" not in present:
        added.append((b"content-security-policy", API_POLICY))
    return [*headers, *added]


class SecurityHeaders:
    """Wraps the app's ASGI handler, outside routing, so every response gets the headers."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_security_headers(list(message.get("headers", ())))}
            await send(message)

        await self._app(scope, receive, send_with_headers)
