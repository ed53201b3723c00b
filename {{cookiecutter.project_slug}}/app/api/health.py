"""Liveness (the process answers) and readiness (its dependencies answer)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.routing import Route

from app.schemas.health import Liveness, Readiness
from app.services.health import check_readiness

router = APIRouter(prefix="/health", tags=["health"])

# Serialised once: the hottest route in the service need not rebuild the same bytes each time.
LIVE_RESPONSE = Response(Liveness().model_dump_json(), media_type="application/json")


async def _serve_live(_request: Request) -> Response:
    return LIVE_RESPONSE


# Served by a plain Starlette route, matched before the documented one below: FastAPI's
# per-request work (solving parameters, checking the response) has nothing to do here, yet was a
# third of this request's CPU. Starlette's route answers HEAD too, for uptime checkers.
router.routes.append(Route("/health/live", _serve_live, methods=["GET"], include_in_schema=False))


@router.get("/live", response_model=Liveness)
async def live() -> Response:
    """Answer while the process runs; touches no dependency."""
    return LIVE_RESPONSE  # for the OpenAPI document only: the route above serves the path


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(request: Request) -> JSONResponse:
    """Answer 200 while the database responds (naming degraded checks), 503 when it does not."""
{%- if cookiecutter.rate_limit_storage == "redis" %}
    state = request.app.state
    report = await check_readiness(state.db, state.rate_limiter.storage, state.settings)
{%- else %}
    report = await check_readiness(request.app.state.db, request.app.state.settings)
{%- endif %}
    status_code = 503 if report.status == "unavailable" else 200
    return JSONResponse(Readiness.model_validate(report).model_dump(), status_code=status_code)
