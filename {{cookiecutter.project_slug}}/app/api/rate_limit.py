"""Rate limiting, applied through FastAPI dependencies and counted without blocking the loop.

Which library does what:
- `limits` counts: fixed windows through its asyncio API (`limits.aio`, storage
  {%- if cookiecutter.rate_limit_storage == "redis" %} `async+redis://`{% else %} `async+memory://`{% endif %}),
  so no request waits for the counter store with the event loop blocked.
- `slowapi` names the client (`get_remote_address`). Its own counting (the `@limiter.limit`
  decorator, `SlowAPIMiddleware`) calls the store synchronously, so it is not used here; its
  `default_limits` are also skipped for routes under included routers (slowapi issue #281), so the
  default limit is a router-level dependency: every route under /api/v1 is counted.

Login is counted twice: per client address (one address cannot spray many accounts) and per
target account (many addresses cannot brute-force one account).

Reset and verification emails are capped per target address too, but that cap is never shown:
a capped request gets the same 202 and headers, and simply sends nothing (see
`email_account_has_room`). A 429 or a counter header there would let anyone lock an owner out
of their own emails, or learn that someone else recently asked about the address.

When the counter store fails or stalls, a request waits at most RATE_LIMIT_STORAGE_TIMEOUT_SECONDS,
then requests are let through uncounted (fail open) for RATE_LIMIT_BREAKER_SECONDS, logged and
counted in /metrics; then one request tries the store again. Rate limiting protects the service;
it must not become the reason the service is down.
"""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, TypeVar

from fastapi import Request, Response
from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string
{%- if cookiecutter.rate_limit_storage == "redis" %}
from redis.asyncio import ConnectionPool
{%- endif %}
from slowapi.util import get_remote_address

from app.core.breaker import StorageBreaker
from app.core.clock import utcnow
from app.core.config import Settings
from app.core.exceptions import RateLimitedError
from app.observability.metrics import (
    ACCOUNT_EMAILS_CAPPED,
    RATE_LIMIT_BREAKER_OPEN,
    RATE_LIMIT_REJECTIONS,
    RATE_LIMIT_STORAGE_FAILURES,
    RATE_LIMIT_UNCOUNTED,
)

LimitSetting = Literal["rate_limit_default", "rate_limit_auth", "rate_limit_login_account"]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class WindowCount:
    item: RateLimitItem
    allowed: bool
    reset_at: float
    remaining: int


class RateLimiter:
    """Counts hits in fixed windows in an asyncio storage, each call bounded in time."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.rate_limit_enabled
        self.key_prefix = settings.rate_limit_key_prefix
{%- if cookiecutter.rate_limit_storage == "redis" %}
        self.timeout_s = settings.redis_timeout_seconds
        # The counters' own connection pool: limits' storage has no close, and the lifespan
        # closes this pool at shutdown (`close`).
        self.pool = ConnectionPool.from_url(
            settings.redis_url,
            socket_timeout=self.timeout_s,
            socket_connect_timeout=self.timeout_s,
        )
        self.storage = _async_storage(
            settings.redis_url,
            implementation="redispy",
            wrap_exceptions=True,
            connection_pool=self.pool,
        )
{%- else %}
        self.timeout_s = settings.rate_limit_storage_timeout_seconds
        self.storage = _async_storage(settings.rate_limit_storage_url, wrap_exceptions=True)
{%- endif %}
        self.windows = FixedWindowRateLimiter(self.storage)
        self.breaker = StorageBreaker(
            settings.rate_limit_breaker_seconds,
            name="Rate-limit storage",
            consequence="requests go through uncounted",
            on_state=lambda is_open: RATE_LIMIT_BREAKER_OPEN.set(int(is_open)),
            on_failure=RATE_LIMIT_STORAGE_FAILURES.inc,
        )

    async def close(self) -> None:
{%- if cookiecutter.rate_limit_storage == "redis" %}
        """Closes the counters' connections to Redis."""
        await self.pool.aclose()
{%- else %}
        """Nothing to close: the counters live in this process."""
{%- endif %}

    async def count(self, items: tuple[RateLimitItem, ...], *key: str) -> list[WindowCount] | None:
        """One hit in each window; None when the store is skipped or failed (let through)."""
        return await self._guarded(lambda: self._hit_each(items, key))

    async def take_if_room(self, items: tuple[RateLimitItem, ...], *key: str) -> bool:
        """One hit in every window if all of them have room, none otherwise.

        A refused attempt counts nowhere: it cannot push a longer window (10/day) to its limit
        while a shorter one (3/hour) refuses. True also when the store is skipped or failed.
        """
        taken = await self._guarded(lambda: self._take_if_room(items, key))
        return taken is None or taken

    async def _guarded(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """`call`'s result, bounded in time; None when the breaker skips it or the store fails."""
        result = await self.breaker.guarded(call, self.timeout_s * 2)
        if result is None:
            RATE_LIMIT_UNCOUNTED.inc()
        return result

    async def _hit_each(
        self, items: tuple[RateLimitItem, ...], key: tuple[str, ...]
    ) -> list[WindowCount]:
        return [await self._hit(item, key) for item in items]

    async def _take_if_room(self, items: tuple[RateLimitItem, ...], key: tuple[str, ...]) -> bool:
        for item in items:
            if not await self.windows.test(item, *key):
                return False
        # Concurrent requests may all pass the test; the atomic hits then decide. One that loses
        # that race stops at the first full window, so at most the windows before it count it.
        for item in items:
            if not await self.windows.hit(item, *key):
                return False
        return True

    async def _hit(self, item: RateLimitItem, key: tuple[str, ...]) -> WindowCount:
        allowed = await self.windows.hit(item, *key)
        stats = await self.windows.get_window_stats(item, *key)
        return WindowCount(item, allowed, stats.reset_time, stats.remaining)


def _async_storage(uri: str, **options: Any) -> Storage:
    """limits picks its asyncio storages by an `async+` scheme: memory:// -> async+memory://.

    Any: limits takes objects as options too (a connection pool), though its hints name scalars.
    """
    storage = storage_from_string(uri if uri.startswith("async+") else f"async+{uri}", **options)
    assert isinstance(storage, Storage)  # an async+ scheme always names an asyncio storage
    return storage


@lru_cache(maxsize=32)
def _parse_limits(value: str) -> tuple[RateLimitItem, ...]:
    # parse_many, not parse: "5/minute;30/hour" must enforce both windows, not just the first.
    return tuple(parse_many(value))


async def _count(
    request: Request, response: Response, setting: LimitSetting, scope: str, key: str
) -> None:
    """Counts one hit in every window of `setting`; 429 with Retry-After if any window is spent."""
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.enabled:
        return
    settings: Settings = request.app.state.settings
    counts = await limiter.count(
        _parse_limits(getattr(settings, setting)), limiter.key_prefix, scope, key
    )
    if not counts:
        return
    tightest = min(counts, key=lambda count: count.remaining)
    headers = {
        "X-RateLimit-Limit": str(tightest.item.amount),
        "X-RateLimit-Remaining": str(tightest.remaining),
        "X-RateLimit-Reset": str(int(tightest.reset_at)),
    }
    refused = [count for count in counts if not count.allowed]
    if refused:
        retry_after = max(1, *(int(count.reset_at - utcnow().timestamp()) for count in refused))
        RATE_LIMIT_REJECTIONS.labels(setting.removeprefix("rate_limit_")).inc()
        raise RateLimitedError(headers={**headers, "Retry-After": str(retry_after)})
    response.headers.update(headers)


class RateLimit:
    """Counts a request per client address against the limit named by a setting.

    Without a `scope`, each route has its own bucket; a shared `scope` makes routes share one.
    """

    def __init__(self, setting: LimitSetting, scope: str | None = None) -> None:
        self.setting = setting
        self.scope = scope

    async def __call__(self, request: Request, response: Response) -> None:
        scope = self.scope or _route_scope(request)
        await _count(request, response, self.setting, scope, get_remote_address(request))


def _route_scope(request: Request) -> str:
    """Each route gets its own bucket, like slowapi's per-route default limits."""
    route = request.scope.get("route")
    # Not getattr(route, "path", request.url.path): that builds the URL on every request.
    path = route.path if route is not None else request.url.path
    return f"{request.method}:{path}"


async def count_login_attempt(request: Request, response: Response, username: str) -> None:
    """Counts a login attempt against the account it targets, whatever address it comes from.

    The key is a hash of the normalised email, so addresses never sit in the limiter's storage.
    """
    account = hashlib.sha256(username.strip().lower().encode()).hexdigest()
    await _count(request, response, "rate_limit_login_account", "login-account", account)


async def email_account_has_room(request: Request, email: str) -> bool:
    """Whether a reset or verification email may go to `email` now; if so, it is counted.

    Counted against the address (RATE_LIMIT_EMAIL_ACCOUNT), known or not, whatever client asks,
    and only when the email will be sent. The answer never reaches the client (no header, no
    429): the endpoint answers the same and simply sends nothing when there is no room. The key
    is a hash of the address, so addresses never sit in the limiter's storage.
    """
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.enabled:
        return True
    settings: Settings = request.app.state.settings
    account = hashlib.sha256(email.encode()).hexdigest()
    windows = _parse_limits(settings.rate_limit_email_account)
    if await limiter.take_if_room(windows, limiter.key_prefix, "email-account", account):
        return True
    ACCOUNT_EMAILS_CAPPED.inc()
    return False


default_rate_limit = RateLimit("rate_limit_default")
auth_rate_limit = RateLimit("rate_limit_auth", scope="auth")
