"""Pure ASGI middleware: request context (id, security headers, access log, request metrics,
last-resort errors), the body size limit, and CORS whose refusals use the error envelope.

Pure ASGI (not BaseHTTPMiddleware) keeps streaming intact and costs one function call per layer.
"""

import logging
import random
import re
import time
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
from re import Pattern
{%- endif %}

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.exceptions import BadRequestError, PayloadTooLargeError
from app.http.error_handlers import error_response, internal_error_response
from app.http.routing import route_template
from app.observability.logging import ACCESS_LOGGER, scrub_path
from app.observability.metrics import UNMATCHED_ROUTE, RequestMetrics
from app.observability.request_context import bind_request_id, unbind_request_id

access_logger = logging.getLogger(ACCESS_LOGGER)
error_logger = logging.getLogger("app.errors")

REQUEST_ID_HEADER = b"x-request-id"
# A caller's id is reused only if it cannot smuggle anything into logs or headers.
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _incoming_request_id(scope: Scope) -> str:
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            if SAFE_REQUEST_ID.match(candidate):
                return candidate
    # An id needs to be unique, not unguessable: random's generator, not os.urandom's system call
    # on every request (PERFORMANCE.md). Reseeded in forked workers.
    return f"{random.getrandbits(128):032x}"


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every API response carries; HSTS only where HTTPS is promised."""
    headers = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
    ]
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
    return headers


class RequestContextMiddleware:
    """Tags each request with an id, adds the security headers, logs one access line, counts
    and times it (`metrics`, when on), and turns a crash into the envelope.

    One layer does all of this (rather than one middleware each): every layer adds a coroutine
    and a `send` wrapper to every request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log: bool = True,
        quiet_routes: frozenset[str] = frozenset(),
        metrics: RequestMetrics | None = None,
        hsts: bool = False,
        vary_origin: bool = False,
    ) -> None:
        self.app = app
        self.access_log = access_log
        # Routes whose successful answers are not logged (passing probes).
        self.quiet_routes = quiet_routes
        self.metrics = metrics
        self.headers = security_headers(hsts=hsts)
        if vary_origin:  # with CORS on, every answer depends on Origin (see EnvelopeCORSMiddleware)
            self.headers.append((b"vary", b"Origin"))
        self.header_names = {name for name, _ in self.headers}

    def _add_headers(self, message: Message, request_id: str) -> None:
        headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
        # A header the route set itself wins. ASGI response header names are lowercase. Plain
        # loops: a comprehension is a function call, and this runs on every response.
        present = set()
        for name, _ in headers:
            if name in self.header_names:
                present.add(name)
        if present:
            headers.extend(item for item in self.headers if item[0] not in present)
        else:
            headers.extend(self.headers)
        headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
        message["headers"] = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                self._add_headers(message, request_id)
            await send(message)

        if self.metrics is not None:
            self.metrics.started()
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            error_logger.exception("Unhandled error on %s %s", scope["method"], scope["path"])
            if response_started:
                raise
            await internal_error_response()(scope, receive, send_with_headers)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            if self.metrics is not None:
                self.metrics.finished(scope["method"], route or UNMATCHED_ROUTE, status, seconds)
            if self.access_log and (status >= 400 or route not in self.quiet_routes):
                _log_access(scope, request_id, status, route, seconds)
            unbind_request_id(token)


def _log_access(
    scope: Scope, request_id: str, status: int, route: str | None, seconds: float
) -> None:
    if not access_logger.isEnabledFor(logging.INFO):
        return
    duration_ms = round(seconds * 1000, 1)
    # An unmatched path is the client's own text: scrubbed of anything token-like.
    method, route = scope["method"], route or scrub_path(scope["path"])
    fields = {"method": method, "route": route, "status": status, "duration_ms": duration_ms}
    # makeRecord + handle is what .info() does, minus walking the stack for the caller's line.
    record = access_logger.makeRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        0,
        "%s %s %s %sms",
        (method, route, status, duration_ms),
        None,
        extra={"request_id": request_id, **fields},
    )
    access_logger.handle(record)


class _BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parser re-raises it instead of answering 400."""

    def __init__(self) -> None:
        super().__init__(413, "Request body too large")


class BodySizeLimitMiddleware:
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
    """Refuses bodies over `max_bytes` with 413, by Content-Length or by counting the stream.

    POSTs to a path matching `streamed` pass: those routes read their body as a stream and
    enforce their own, larger limit while reading (uploads, app/http/uploads.py).
    """
{%- else %}
    """Refuses bodies over `max_bytes` with 413, by Content-Length or by counting the stream."""
{%- endif %}
{% if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
    def __init__(self, app: ASGIApp, *, max_bytes: int, streamed: Pattern[str]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            scope["method"] == "POST" and self.streamed.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
{%- else %}
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
{%- endif %}
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            # No length and no chunking: HTTP/1.1 says there is no body, so nothing to count.
            await self.app(scope, receive, send)
            return
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _BodyTooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLargeError(details={"max_bytes": self.max_bytes})
        await error_response(error)(scope, receive, send)


class EnvelopeCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight answers in the error envelope, and a
    request without Origin (no browser asking) skips the per-response header rewriting: its
    `Vary: Origin` comes from RequestContextMiddleware's fixed headers instead."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # dict(): one call, where any() over a generator costs one a header.
        if scope["type"] == "http" and b"origin" not in dict(scope["headers"]):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        # Starlette's body names what was refused ("Disallowed CORS origin, headers").
        reason = bytes(response.body).decode()
        return error_response(BadRequestError(reason, code="CORS_REFUSED"))
