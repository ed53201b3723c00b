"""Rate limiting: slowapi's limiter (storage, strategy) applied through FastAPI dependencies.

slowapi's `default_limits` are silently skipped for routes under included routers on current
FastAPI (slowapi issue #281), so the default limit is a router-level dependency instead: every
route under /api/v1 is counted without anyone having to remember a decorator.

Login is counted twice: per client address (one address cannot spray many accounts) and per
target account (many addresses cannot brute-force one account).

When the counter storage fails, requests are let through (fail open) and a warning is logged:
rate limiting protects the service, it must not become the reason the service is down.
"""

import hashlib
import logging
import time
from functools import lru_cache
from typing import Any, Literal

from fastapi import Request, Response
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from slowapi import Limiter
from slowapi.util import get_remote_address

from app.core.config import Settings
from app.core.exceptions import RateLimitedError
from app.core.metrics import RATE_LIMIT_REJECTIONS
{%- if cookiecutter.rate_limit_storage == "memory" %}
from app.core.rate_limit_storage import thread_free_storage_uri
{%- endif %}

LimitSetting = Literal[
    "rate_limit_default", "rate_limit_auth", "rate_limit_login_account", "rate_limit_email_account"
]
logger = logging.getLogger(__name__)


def build_limiter(settings: Settings) -> Limiter:
    return Limiter(
        key_func=get_remote_address,
{%- if cookiecutter.rate_limit_storage == "redis" %}
        storage_uri=settings.redis_url,
{%- else %}
        storage_uri=thread_free_storage_uri(settings.rate_limit_storage_url),
{%- endif %}
        storage_options=_storage_options(settings),
        strategy="fixed-window",
        enabled=settings.rate_limit_enabled,
        key_prefix=settings.rate_limit_key_prefix,
    )


def _storage_options(settings: Settings) -> dict[str, Any]:
    # Storage failures arrive as limits' StorageError whatever the backend; _count lets them through.
{%- if cookiecutter.rate_limit_storage == "redis" %}
    timeout = settings.redis_timeout_seconds
    return {"wrap_exceptions": True, "socket_timeout": timeout, "socket_connect_timeout": timeout}
{%- else %}
    return {"wrap_exceptions": True}
{%- endif %}


@lru_cache(maxsize=32)
def _parse_limits(value: str) -> tuple[RateLimitItem, ...]:
    # parse_many, not parse: "5/minute;30/hour" must enforce both windows, not just the first.
    return tuple(parse_many(value))


def _count(
    request: Request, response: Response, setting: LimitSetting, scope: str, key: str
) -> None:
    """Counts one hit in every window of `setting`; 429 with Retry-After if any window is spent."""
    limiter: Limiter = request.app.state.limiter
    if not limiter.enabled:
        return
    settings: Settings = request.app.state.settings
    identifiers = (settings.rate_limit_key_prefix, scope, key)
    tightest: dict[str, str] = {}
    retry_after = 0
    try:
        for item in _parse_limits(getattr(settings, setting)):
            allowed = limiter.limiter.hit(item, *identifiers)
            reset_at, remaining = limiter.limiter.get_window_stats(item, *identifiers)
            if not tightest or remaining < int(tightest["X-RateLimit-Remaining"]):
                tightest = {
                    "X-RateLimit-Limit": str(item.amount),
                    "X-RateLimit-Remaining": str(remaining),
                    "X-RateLimit-Reset": str(int(reset_at)),
                }
            if not allowed:
                retry_after = max(retry_after, 1, int(reset_at - time.time()))
    except StorageError as exc:
        # Fail open: an unreachable counter store must not take the whole API down with it.
        logger.warning("Rate-limit storage failed, request let through: %r", exc.storage_error)
        return
    if retry_after:
        RATE_LIMIT_REJECTIONS.labels(setting.removeprefix("rate_limit_")).inc()
        raise RateLimitedError(headers={**tightest, "Retry-After": str(retry_after)})
    response.headers.update(tightest)


class RateLimit:
    """Counts a request per client address against the limit named by a setting.

    Without a `scope`, each route has its own bucket; a shared `scope` makes routes share one.
    """

    def __init__(self, setting: LimitSetting, scope: str | None = None) -> None:
        self.setting = setting
        self.scope = scope

    async def __call__(self, request: Request, response: Response) -> None:
        scope = self.scope or _route_scope(request)
        _count(request, response, self.setting, scope, get_remote_address(request))


def _route_scope(request: Request) -> str:
    """Each route gets its own bucket, like slowapi's per-route default limits."""
    route = request.scope.get("route")
    # Not getattr(route, "path", request.url.path): that builds the URL on every request.
    path = route.path if route is not None else request.url.path
    return f"{request.method}:{path}"


def count_login_attempt(request: Request, response: Response, username: str) -> None:
    """Counts a login attempt against the account it targets, whatever address it comes from.

    The key is a hash of the normalised email, so addresses never sit in the limiter's storage.
    """
    account = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    _count(request, response, "rate_limit_login_account", "login-account", account)


def count_account_email(request: Request, response: Response, email: str) -> None:
    """Counts a reset or verification email against the address it goes to, known or not.

    Unknown addresses are counted the same way, so the limit reveals nothing about accounts.
    """
    account = hashlib.sha256(email.encode()).hexdigest()
    _count(request, response, "rate_limit_email_account", "email-account", account)


default_rate_limit = RateLimit("rate_limit_default")
auth_rate_limit = RateLimit("rate_limit_auth", scope="auth")
