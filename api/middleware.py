"""Plain ASGI middleware (no per-request task group): a request-body size limit, answer headers.

:class:`BodyLimitMiddleware`: a declared ``Content-Length`` past the limit is answered 413 at once, before
the body is read; a body that streams past it (chunked uploads) makes the
next ``receive`` raise :class:`api.errors.TooLargeError`, which the error
table turns into the same 413 answer.
"""

from __future__ import annotations

import fnmatch

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import TooLargeError, error_answer


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``limit_bytes`` with 413."""

    def __init__(self, app: ASGIApp, limit_bytes: int) -> None:
        self.app = app
        self.limit_bytes = limit_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit_bytes:
            answer = error_answer(413, TooLargeError.code, self._message(), {"limit_bytes": self.limit_bytes})
            await answer(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit_bytes:
                    raise TooLargeError(self._message(), {"limit_bytes": self.limit_bytes})
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
        return f"the request body is larger than the server accepts ({self.limit_bytes} bytes)"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class AnswerHeadersMiddleware:
    """``X-Content-Type-Options: nosniff`` on every answer; Host checked against ``trusted_hosts``."""

    def __init__(self, app: ASGIApp, trusted_hosts: list[str] | None = None) -> None:
        self.app = app
        self.trusted_hosts = [host.lower() for host in trusted_hosts or []]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-content-type-options" not in headers:
                    headers.append("X-Content-Type-Options", "nosniff")
            await send(message)

        if self.trusted_hosts and not self._trusted(_host(scope)):
            answer = error_answer(400, "untrusted_host", "this server does not answer for that Host header", None)
            await answer(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _trusted(self, host: str) -> bool:
        return any(fnmatch.fnmatchcase(host, pattern) for pattern in self.trusted_hosts)


def _host(scope: Scope) -> str:
    """The Host header without its port, lower case ('' when absent)."""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            text = value.decode("latin-1").lower()
            if text.startswith("["):  # an IPv6 literal: [::1]:8000
                return text.split("]", 1)[0] + "]"
            return text.rsplit(":", 1)[0] if text.count(":") == 1 else text
    return ""
