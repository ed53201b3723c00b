"""Liveness (the process answers) and readiness (its dependencies answer)."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from app.schemas.health import Liveness, Readiness
from app.services.health import check_readiness

LIVE_PATH = "/health/live"
READY_PATH = "/health/ready"
# Their passing answers get no access line unless ACCESS_LOG_PROBES (app/core/config.py).
PROBE_ROUTES = frozenset({LIVE_PATH, READY_PATH})
# Serialised once: the hottest route in the service need not rebuild the same bytes each time.
LIVE_RESPONSE = Response(Liveness().model_dump_json(), media_type="application/json")


async def live() -> Response:
    """Answer while the process runs; touches no dependency."""
    return LIVE_RESPONSE


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


def add_health_routes(app: FastAPI) -> None:
    """Adds the probes to the app itself. An included router would add a node that FastAPI
    walks on every request, and probes are the most frequent requests (PERFORMANCE.md).

    APIRoutes, not bare Starlette routes: FastAPI records the matched template (which /metrics
    and the access log read, app/http/routing.py) only for its own routes; a bare `Route` placed
    in an included router was counted as `route="unmatched"` (tests/api/test_metrics.py)."""
    app.add_api_route(LIVE_PATH, live, methods=["GET"], response_model=Liveness, tags=["health"])
    # Uptime checkers send HEAD; one documented operation is enough.
    app.add_api_route(LIVE_PATH, live, methods=["HEAD"], include_in_schema=False, tags=["health"])
    app.add_api_route(
        READY_PATH,
        ready,
        methods=["GET"],
        responses={503: {"model": Readiness}},
        tags=["health"],
    )
