"""Serves /metrics to allowed clients; RequestContextMiddleware counts and times the requests.

Pure ASGI and outermost, so a scrape never reaches the access log, the rate limits or the
routers, and every other request passes through untouched. A client outside
METRICS_ALLOW_FROM is passed on like any other request and gets the ordinary 404 of an unknown
path. The client address is the one uvicorn resolved (behind a trusted proxy, from
X-Forwarded-For), so a public client behind the proxy stays out.
"""

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

METRICS_PATH = "/metrics"


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, allow_from: Sequence[str]) -> None:
        self.app = app
        self.allow_from: tuple[IPv4Network | IPv6Network, ...] = tuple(
            ip_network(network) for network in allow_from
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == METRICS_PATH and self._allowed(scope):
            response = Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        client = scope.get("client")
        if scope["method"] not in ("GET", "HEAD") or client is None:
            return False
        try:
            address = ip_address(client[0])
        except ValueError:  # a Unix socket path or a test client's made-up host
            return False
        return any(address in network for network in self.allow_from)
