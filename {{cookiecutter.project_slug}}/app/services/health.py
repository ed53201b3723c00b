"""Readiness: which dependencies answer, and whether the service can serve without the others."""

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
{%- if cookiecutter.rate_limit_storage == "redis" %}

from limits.aio.storage import Storage
{%- endif %}

from app.db.session import Database
from app.repositories.health import ping_database
from app.schemas.health import CheckResult, ReadinessStatus

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
# Without these the service cannot answer at all; any other failing check only degrades it.
REQUIRED_CHECKS = frozenset({"database"})


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    status: ReadinessStatus
    checks: dict[str, CheckResult]


{% if cookiecutter.rate_limit_storage == "redis" -%}
async def check_readiness(database: Database, counters: Storage) -> ReadinessReport:
{%- else -%}
async def check_readiness(database: Database) -> ReadinessReport:
{%- endif %}
    checks = {
        "database": await _check("database", ping_database(database)),
{%- if cookiecutter.rate_limit_storage == "redis" %}
        "redis": await _check("redis", _ping_rate_limit_storage(counters)),
{%- endif %}
    }
    failed = {name for name, result in checks.items() if result != "ok"}
    status: ReadinessStatus = (
        "unavailable" if failed & REQUIRED_CHECKS else "degraded" if failed else "ok"
    )
    return ReadinessReport(status, checks)


async def _check(name: str, probe: Awaitable[None]) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
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
