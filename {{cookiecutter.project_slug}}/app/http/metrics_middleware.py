"""Counts and times every request by route template, and serves /metrics to allowed clients.

Pure ASGI and outermost, so a scrape never reaches the access log, the rate limits or the
routers. A client outside METRICS_ALLOW_FROM is passed on like any other request and gets the
ordinary 404 of an unknown path. The client address is the one uvicorn resolved (behind a
trusted proxy, from X-Forwarded-For), so a public client behind the proxy stays out.
"""

import time
from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.metrics import Counter, Histogram
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.routing import route_template
from app.observability.metrics import IN_PROGRESS, REQUEST_DURATION, REQUESTS, UNMATCHED_ROUTE

METRICS_PATH = "/metrics"
# Any other method string a client sends is counted as "OTHER": labels must stay a bounded set.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, allow_from: Sequence[str]) -> None:
        self.app = app
        self.allow_from: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ip_network(network) for network in allow_from
        )
        # Labelled children, looked up once per label set instead of on every request.
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == METRICS_PATH and self._allowed(scope):
            await self._serve(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            IN_PROGRESS.dec()
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            self._record(method, route_template(scope) or UNMATCHED_ROUTE, status, started)

    def _record(self, method: str, route: str, status: int, started: float) -> None:
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = REQUESTS.labels(method, route, str(status))
            self._counters[(method, route, status)] = counter
        counter.inc()
        timer = self._timers.get((method, route))
        if timer is None:
            timer = self._timers[(method, route)] = REQUEST_DURATION.labels(method, route)
        timer.observe(time.perf_counter() - started)

    def _allowed(self, scope: Scope) -> bool:
        client = scope.get("client")
        if scope["method"] not in ("GET", "HEAD") or client is None:
            return False
        try:
            address = ip_address(client[0])
        except ValueError:  # a Unix socket path or a test client's made-up host
            return False
        return any(address in network for network in self.allow_from)

    @staticmethod
    async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
        response = Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
        await response(scope, receive, send)
