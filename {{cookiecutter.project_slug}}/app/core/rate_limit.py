"""Rate limiting: slowapi's limiter (storage, strategy) applied through FastAPI dependencies.

slowapi's `default_limits` are silently skipped for routes under included routers on current
FastAPI (slowapi issue #281), so the default limit is a router-level dependency instead: every
route under /api/v1 is counted without anyone having to remember a decorator.

When the counter storage fails, requests are let through (fail open) and a warning is logged:
rate limiting protects the service, it must not become the reason the service is down.
"""

import logging
import time
from functools import lru_cache
from typing import Any, Literal

from fastapi import Request, Response
from limits import RateLimitItem, parse
from limits.errors import StorageError
from slowapi import Limiter
from slowapi.util import get_remote_address

from app.core.config import Settings
from app.core.exceptions import RateLimitedError

LimitSetting = Literal["rate_limit_default", "rate_limit_auth"]
logger = logging.getLogger(__name__)


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=get_remote_address,
        storage_uri=settings.{{ "redis_url" if cookiecutter.rate_limit_storage == "redis" else "rate_limit_storage_url" }},
        storage_options=_storage_options(settings),
        strategy="fixed-window",
        enabled=settings.rate_limit_enabled,
        key_prefix=settings.rate_limit_key_prefix,
    )


def _storage_options(settings: Settings) -> dict[str, Any]:
    # Storage failures arrive as limits' StorageError whatever the backend; RateLimit lets them through.
{%- if cookiecutter.rate_limit_storage == "redis" %}
    timeout = settings.redis_timeout_seconds
    return {"wrap_exceptions": True, "socket_timeout": timeout, "socket_connect_timeout": timeout}
{%- else %}
    return {"wrap_exceptions": True}
{%- endif %}


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
        identifiers = (settings.rate_limit_key_prefix, self.scope or _route_scope(request))
        key = get_remote_address(request)
        try:
            allowed = limiter.limiter.hit(item, *identifiers, key)
            reset_at, remaining = limiter.limiter.get_window_stats(item, *identifiers, key)
        except StorageError as exc:
            # Fail open: an unreachable counter store must not take the whole API down with it.
            logger.warning("Rate-limit storage failed, request let through: %r", exc.storage_error)
            return
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
