"""Prometheus metrics: what the service counts, and the pool gauges read at scrape time.

The metrics live in this process (prometheus-client's default registry, which also carries the
process CPU and memory metrics). Run one server process per container, as the Dockerfile does:
several workers in one container would each answer a scrape with their own counters only
(prometheus-client's multiprocess mode is the way out if you ever need that).
"""

import weakref
from collections.abc import Iterable

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

# The label of a request no route matched (404s, slash redirects): never the raw path.
UNMATCHED_ROUTE = "unmatched"
# Any other method string a client sends is counted as "OTHER": labels must stay a bounded set.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from receiving a request to the end of its response, by method and route template.",
    ["method", "route"],
)
IN_PROGRESS = Gauge("http_requests_in_progress", "Requests being answered right now.")
RATE_LIMIT_REJECTIONS = Counter(
    "rate_limit_rejections",
    "Requests refused with 429, by the limit that refused them.",
    ["limit"],
)
ACCOUNT_EMAILS_CAPPED = Counter(
    "account_emails_capped",
    "Reset and verification emails not sent: their address had reached RATE_LIMIT_EMAIL_ACCOUNT.",
)
RATE_LIMIT_STORAGE_FAILURES = Counter(
    "rate_limit_storage_failures",
    "Calls to the rate-limit storage that failed or timed out.",
)
RATE_LIMIT_UNCOUNTED = Counter(
    "rate_limit_uncounted_requests",
    "Requests let through without counting because the rate-limit storage failed (fail open).",
)
RATE_LIMIT_BREAKER_OPEN = Gauge(
    "rate_limit_breaker_open",
    "1 while rate limiting fails open after a storage failure, 0 while it counts.",
)
CACHE_LOOKUPS = Counter(
    "cache_lookups",
    "Cached reads, by result: hit, miss (loaded and stored) or skipped (the cache store failed).",
    ["result"],
)
CACHE_STORE_FAILURES = Counter(
    "cache_store_failures",
    "Calls to the cache store that failed or timed out.",
)
CACHE_BREAKER_OPEN = Gauge(
    "cache_breaker_open",
    "1 while cached reads go to the database after a cache store failure, 0 while they use it.",
)
LOGIN_FAILURES = Counter(
    "login_failures", "Refused logins: unknown email, wrong password or inactive account."
)
PASSWORD_HASHING_REJECTIONS = Counter(
    "password_hashing_rejections",
    "Requests refused with 503 SERVER_BUSY: the password hashing queue was full or too slow.",
)
{%- if cookiecutter.realtime == "yes" %}
EVENT_STREAMS_OPEN = Gauge(
    "event_streams_open", "Event streams (SSE and WebSocket) open in this process.", ["transport"]
)
EVENT_STREAMS_CLOSED = Counter(
    "event_streams_closed",
    "Event streams this process closed, by reason: slow_consumer (dropped), token (revoked or "
    "expired), shutdown.",
    ["reason"],
)
EVENT_STREAMS_REFUSED = Counter(
    "event_streams_refused", "Event streams refused with TOO_MANY_STREAMS, by cap.", ["cap"]
)
EVENTS_PUBLISHED = Counter(
    "events_published",
    "Events published after their commit, by result: sent, or failed (logged, not retried).",
    ["result"],
)
{%- endif %}
{%- if cookiecutter.file_storage != "none" %}
UPLOAD_BYTES_STORED = Counter(
    "upload_bytes_stored", "Bytes of uploaded files written to the file storage."
)
UPLOADS_REFUSED = Counter(
    "uploads_refused",
    "Uploads refused, by reason: too_large, type, empty, malformed, interrupted.",
    ["reason"],
)
{%- endif %}


class RequestMetrics:
    """Counts and times answered requests by method, route template and status.

    Labelled children are looked up once per label set instead of on every request. Requests in
    progress are a plain count that the gauge reads when scraped: requests run on the event
    loop's one thread, so the count needs none of the lock an inc() and a dec() would take on
    every request.
    """

    in_progress = 0  # shared by every app in the process, like the gauge itself

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}

    @staticmethod
    def started() -> None:
        RequestMetrics.in_progress += 1

    def finished(self, method: str, route: str, status: int, seconds: float) -> None:
        RequestMetrics.in_progress -= 1
        method = method if method in KNOWN_METHODS else "OTHER"
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = REQUESTS.labels(
                method, route, str(status)
            )
        counter.inc()
        timer = self._timers.get((method, route))
        if timer is None:
            timer = self._timers[(method, route)] = REQUEST_DURATION.labels(method, route)
        timer.observe(seconds)


class PoolCollector(Collector):
    """Reads the connection pools when Prometheus scrapes, so requests pay nothing for it."""

    def __init__(self) -> None:
        self._engines: weakref.WeakSet[Engine] = weakref.WeakSet()

    def track(self, engine: AsyncEngine) -> None:
        self._engines.add(engine.sync_engine)

    def collect(self) -> Iterable[Metric]:
        # engine.pool, not a pool kept from earlier: dispose() replaces an engine's pool.
        pools = [e.pool for e in list(self._engines) if isinstance(e.pool, QueuePool)]
        checked_out = GaugeMetricFamily(
            "db_pool_checked_out_connections", "Database connections in use by requests."
        )
        checked_out.add_metric([], sum(pool.checkedout() for pool in pools))
        size = GaugeMetricFamily(
            "db_pool_size", "Connections the pool keeps open (overflow connections excluded)."
        )
        size.add_metric([], sum(pool.size() for pool in pools))
        return [checked_out, size]


IN_PROGRESS.set_function(lambda: RequestMetrics.in_progress)
POOLS = PoolCollector()
REGISTRY.register(POOLS)
