"""Readiness: which dependencies answer, and whether the service can serve without the others."""

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
{%- if cookiecutter.rate_limit_storage == "redis" %}

from limits.aio.storage import Storage
{%- endif %}

from app.core.config import Settings
from app.db.session import Database
from app.repositories.health import ping_database
from app.schemas.health import CheckResult, ReadinessStatus

logger = logging.getLogger(__name__)

# Beyond its own time bounds, how long a check may take before it counts as failed.
CHECK_SLACK_SECONDS = 1.0
# Without these the service cannot answer at all; any other failing check only degrades it.
REQUIRED_CHECKS = frozenset({"database"})


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    status: ReadinessStatus
    checks: dict[str, CheckResult]


{% if cookiecutter.rate_limit_storage == "redis" -%}
async def check_readiness(
    database: Database, counters: Storage, settings: Settings
) -> ReadinessReport:
{%- else -%}
async def check_readiness(database: Database, settings: Settings) -> ReadinessReport:
{%- endif %}
    # The database check waits for a pooled connection as long as a request would: a busy pool
    # that still serves requests is ready. Only when requests would get 503s is the check failed.
    database_bound = settings.db_pool_timeout_seconds + CHECK_SLACK_SECONDS
    checks = {
        "database": await _check("database", ping_database(database), database_bound),
{%- if cookiecutter.rate_limit_storage == "redis" %}
        "redis": await _check(
            "redis",
            _ping_rate_limit_storage(counters),
            settings.redis_timeout_seconds + CHECK_SLACK_SECONDS,
        ),
{%- endif %}
    }
    failed = {name for name, result in checks.items() if result != "ok"}
    status: ReadinessStatus = (
        "unavailable" if failed & REQUIRED_CHECKS else "degraded" if failed else "ok"
    )
    return ReadinessReport(status, checks)


async def _check(name: str, probe: Awaitable[None], timeout_s: float) -> CheckResult:
    try:
        async with asyncio.timeout(timeout_s):
            await probe
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        logger.warning("Readiness: %s check failed: %r", name, exc)
        return "unavailable"
    return "ok"
{%- if cookiecutter.rate_limit_storage == "redis" %}


async def _ping_rate_limit_storage(counters: Storage) -> None:
    # The rate limiter's own client, with its timeouts: the check sees what rate limiting sees.
    if not await counters.check():
        raise ConnectionError("the rate-limit storage did not answer")
{%- endif %}
