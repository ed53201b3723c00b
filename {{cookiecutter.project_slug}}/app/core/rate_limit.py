"""Rate limiting: slowapi's limiter (storage, strategy) applied through FastAPI dependencies.

slowapi's `default_limits` are silently skipped for routes under included routers on current
FastAPI (slowapi issue #281), so the default limit is a router-level dependency instead: every
route under /api/v1 is counted without anyone having to remember a decorator.
"""

import time
from functools import lru_cache
from typing import Literal

from fastapi import Request, Response
from limits import RateLimitItem, parse
from slowapi import Limiter
from slowapi.util import get_remote_address

from app.core.config import Settings
from app.core.exceptions import RateLimitedError
from app.core.rate_limit_storage import thread_free_storage_uri

LimitSetting = Literal["rate_limit_default", "rate_limit_auth"]


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=get_remote_address,
        storage_uri=thread_free_storage_uri(settings.rate_limit_storage_url),
        strategy="fixed-window",
        enabled=settings.rate_limit_enabled,
        key_prefix=settings.jwt_issuer,
    )


@lru_cache(maxsize=32)
def _parse_limit(value: str) -> RateLimitItem:
    return parse(value)


class RateLimit:
    """Counts a request against the limit named by a setting; 429 with Retry-After when spent.

    Without a `scope`, each route has its own bucket; a shared `scope` makes routes share one.
    """

    def __init__(self, setting: LimitSetting, scope: str | None = None) -> None:
        self.setting = setting
        self.scope = scope

    async def __call__(self, request: Request, response: Response) -> None:
        limiter: Limiter = request.app.state.limiter
        if not limiter.enabled:
            return
        settings: Settings = request.app.state.settings
        item = _parse_limit(getattr(settings, self.setting))
        key = get_remote_address(request)
        scope = self.scope or _route_scope(request)
        allowed = limiter.limiter.hit(item, scope, key)
        reset_at, remaining = limiter.limiter.get_window_stats(item, scope, key)
        headers = {
            "X-RateLimit-Limit": str(item.amount),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(int(reset_at)),
        }
        if not allowed:
            retry_after = max(1, int(reset_at - time.time()))
            raise RateLimitedError(headers={**headers, "Retry-After": str(retry_after)})
        response.headers.update(headers)


def _route_scope(request: Request) -> str:
    """Each route gets its own bucket, like slowapi's per-route default limits."""
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    return f"{request.method}:{path}"


default_rate_limit = RateLimit("rate_limit_default")
auth_rate_limit = RateLimit("rate_limit_auth", scope="auth")
