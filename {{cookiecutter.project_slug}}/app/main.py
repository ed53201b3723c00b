"""Application factory: settings, logging, middleware, error handlers, routers, lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.api import health
from app.api.docs import add_docs_routes
from app.api.operation_ids import operation_id
from app.api.rate_limit import RateLimiter
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
from app.api.v1.endpoints.attachments import UPLOAD_PATH
{%- endif %}
from app.api.v1.router import {% if cookiecutter.realtime == "yes" %}EVENTS_PATH, {% endif %}include_api_v1
from app.cache.stores import build_cache
from app.core.config import Settings, get_settings
from app.db.session import create_database
from app.emails.sender import build_email_sender
{%- if cookiecutter.realtime == "yes" %}
from app.events import build_event_hub
{%- endif %}
from app.http.error_handlers import register_exception_handlers
from app.http.metrics_middleware import MetricsMiddleware
from app.http.middleware import (
    BodySizeLimitMiddleware,
    EnvelopeCORSMiddleware,
    RequestContextMiddleware,
)
{%- if cookiecutter.realtime == "yes" %}
from app.http.streams import AbortableResponseMiddleware
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}
from app.jobs.broker import broker
{%- endif %}
from app.observability.logging import configure_logging
from app.observability.metrics import POOLS, RequestMetrics
{%- if cookiecutter.tracing == "opentelemetry" %}
from app.observability.tracing import start_tracing, trace_database
{%- endif %}
{%- if cookiecutter.file_storage != "none" %}
from app.storage import build_storage
{%- endif %}

# The docs' sections in reading order: sign in first, health last (its routes are matched first);
# `make resource` puts each new resource's before health.
{%- if cookiecutter.realtime == "yes" and cookiecutter.example_resource %}
OPENAPI_TAGS = [
    {"name": "auth"},
    {"name": "users"},
    {"name": "events"},
    {"name": "items"},
    {"name": "health"},
]
{%- else %}
OPENAPI_TAGS = [{"name": "auth"}, {"name": "users"}{% if cookiecutter.realtime == "yes" %}, {"name": "events"}{% endif %}{% if cookiecutter.example_resource %}, {"name": "items"}{% endif %}, {"name": "health"}]
{%- endif %}


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
{%- if cookiecutter.realtime == "yes" %}
    await app.state.events.start()
    yield
    await app.state.events.close()  # every open stream gets its `close` event first
{%- else %}
    yield
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}
    if not broker.is_worker_process:  # the worker's broker is closed by taskiq itself
        await broker.shutdown()
{%- endif %}
    await app.state.rate_limiter.close()
    await app.state.cache.close()
{%- if cookiecutter.file_storage != "none" %}
    await app.state.storage.close()
{%- endif %}
    await app.state.db.engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
{%- if cookiecutter.tracing == "opentelemetry" %}
    telemetry = start_tracing()  # before logging: every log record carries its trace id
{%- endif %}
    configure_logging(settings)
    docs = settings.serves_docs
    app = FastAPI(
        title=settings.project_name,
        version="0.1.0",
        description="{{ cookiecutter.description }}",
        lifespan=lifespan,
        # One URL per route: a redirect to the other spelling would drop a POST body in some
        # clients and answer with an empty body; a 404 in the envelope says what is wrong.
        redirect_slashes=False,
        # The docs pages come from app/api/docs.py, which serves their assets locally.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        swagger_ui_parameters={"persistAuthorization": True},
        openapi_tags=OPENAPI_TAGS,
        # `users.readMe`, not `read_me_api_v1_users_me_get`: generated clients read like the API.
        generate_unique_id_function=operation_id,
{%- if cookiecutter.tracing == "opentelemetry" %}
        telemetry=telemetry,
{%- else %}
        # FastAPI's built-in OpenTelemetry, off: left on, it looks up the global tracer, meter
        # and log providers on every request to find out that none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
{%- endif %}
    )
    attach_resources(app, settings)
    register_exception_handlers(app)
    # Health first: the most called route is matched before the API's routes are tried.
    health.add_health_routes(app)
    include_api_v1(app)
    if docs:
        add_docs_routes(app)
    _add_middleware(app, settings)
    return app


def attach_resources(app: FastAPI, settings: Settings) -> None:
    """Gives `app` the settings and resources its routes reach through `app.state`: the database,
    rate limiter, cache and mail sender{% if cookiecutter.realtime == "yes" %}, event hub{% endif %}{% if cookiecutter.file_storage != "none" %}, file storage{% endif %}. The lifespan closes them.

    Apart from `create_app` so that one app can be given fresh ones: the tests serve every test
    from one app (FastAPI prepares an app's routes on its first requests) with resources of its own.
    """
    app.state.settings = settings
    app.state.db = create_database(settings)
{%- if cookiecutter.tracing == "opentelemetry" %}
    trace_database(app.state.db.engine)
{%- endif %}
    if settings.metrics_enabled:
        POOLS.track(app.state.db.engine)
    app.state.rate_limiter = RateLimiter(settings)
    app.state.cache = build_cache(settings)
    app.state.email = build_email_sender(settings)
{%- if cookiecutter.realtime == "yes" %}
    app.state.events = build_event_hub(settings)
{%- endif %}
{%- if cookiecutter.file_storage != "none" %}
    app.state.storage = build_storage(settings)
{%- endif %}


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Added innermost first; the request context layer wraps everything."""
{%- if cookiecutter.realtime == "yes" %}
    app.add_middleware(AbortableResponseMiddleware, paths=frozenset({EVENTS_PATH}))
{%- endif %}
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, streamed=UPLOAD_PATH
    )
{%- else %}
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
{%- endif %}
    if settings.cors_origins:
        app.add_middleware(
            EnvelopeCORSMiddleware,
            allow_origins=settings.cors_origins,
            # With "*" Starlette would echo any origin back *with* credentials: never allow both.
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(
        RequestContextMiddleware,
        access_log=settings.access_log,
        quiet_routes=frozenset() if settings.access_log_probes else health.PROBE_ROUTES,
        metrics=RequestMetrics() if settings.metrics_enabled else None,
        hsts=settings.is_production,
        vary_origin=bool(settings.cors_origins),
    )
    if settings.metrics_enabled:
        # Outermost: a scrape skips the access log and is not counted as a request.
        app.add_middleware(MetricsMiddleware, allow_from=settings.metrics_allow_from)
