"""A request-body size limit as plain ASGI middleware (no per-request task group).

A declared ``Content-Length`` past the limit is answered 413 at once, before
the body is read; a body that streams past it (chunked uploads) makes the
next ``receive`` raise :class:`api.errors.TooLargeError`, which the error
table turns into the same 413 answer.
"""

from __future__ import annotations

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
