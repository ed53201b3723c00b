"""Liveness (the process answers) and readiness (its dependencies answer)."""

import asyncio
import logging
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy import text

from app.db.session import Database

router = APIRouter(prefix="/health", tags=["health"])
logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
CheckResult = Literal["ok", "unavailable"]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, CheckResult]


# Serialised once: the hottest route in the service need not rebuild the same bytes each time.
LIVE_RESPONSE = Response(Liveness().model_dump_json(), media_type="application/json")


@router.get("/live", response_model=Liveness)
async def live() -> Response:
    """Answer while the process runs; touches no dependency."""
    return LIVE_RESPONSE


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(request: Request) -> JSONResponse:
    """Answer 200 when every dependency responds, 503 naming the ones that do not."""
    checks = {"database": await _check_database(request.app.state.db)}
    healthy = all(result == "ok" for result in checks.values())
    body = Readiness(status="ok" if healthy else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if healthy else 503)


async def _check_database(database: Database) -> CheckResult:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS), database.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        logger.warning("Readiness: database check failed: %r", exc)
        return "unavailable"
    return "ok"
