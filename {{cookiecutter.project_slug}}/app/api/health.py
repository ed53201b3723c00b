"""Liveness (the process answers) and readiness (its dependencies answer)."""

import asyncio
import logging
from collections.abc import Awaitable
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
{%- if cookiecutter.rate_limit_storage == "redis" %}
from slowapi import Limiter
{%- endif %}
from sqlalchemy import text

from app.db.session import Database

router = APIRouter(prefix="/health", tags=["health"])
logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
# Without these the service cannot answer at all; any other failing check only degrades it.
REQUIRED_CHECKS = frozenset({"database"})
CheckResult = Literal["ok", "unavailable"]
ReadinessStatus = Literal["ok", "degraded", "unavailable"]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: ReadinessStatus
    checks: dict[str, CheckResult]


# Serialised once: the hottest route in the service need not rebuild the same bytes each time.
LIVE_RESPONSE = Response(Liveness().model_dump_json(), media_type="application/json")


@router.get("/live", response_model=Liveness)
async def live() -> Response:
    """Answer while the process runs; touches no dependency."""
    return LIVE_RESPONSE


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(request: Request) -> JSONResponse:
    """Answer 200 while the database responds (naming degraded checks), 503 when it does not."""
    checks = {
        "database": await _check("database", _ping_database(request.app.state.db)),
{%- if cookiecutter.rate_limit_storage == "redis" %}
        "redis": await _check("redis", _ping_rate_limit_storage(request.app.state.limiter)),
{%- endif %}
    }
    failed = {name for name, result in checks.items() if result != "ok"}
    status: ReadinessStatus = (
        "unavailable" if failed & REQUIRED_CHECKS else "degraded" if failed else "ok"
    )
    body = Readiness(status=status, checks=checks)
    return JSONResponse(body.model_dump(), status_code=503 if status == "unavailable" else 200)


async def _check(name: str, probe: Awaitable[None]) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await probe
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        logger.warning("Readiness: %s check failed: %r", name, exc)
        return "unavailable"
    return "ok"


async def _ping_database(database: Database) -> None:
    async with database.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
{%- if cookiecutter.rate_limit_storage == "redis" %}


async def _ping_rate_limit_storage(limiter: Limiter) -> None:
    # The limiter's own client, with its timeouts: the check sees what rate limiting sees.
    if not await asyncio.to_thread(limiter.limiter.storage.check):
        raise ConnectionError("the rate-limit storage did not answer")
{%- endif %}
