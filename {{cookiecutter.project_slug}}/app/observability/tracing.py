"""OpenTelemetry traces: a server span per request, named by its route template (FastAPI's own
instrumentation), child spans for every SQL statement{% if cookiecutter.rate_limit_storage == "redis" %} and Redis command{% endif %}, and the trace id on
every log line.

Configured by the standard variables: OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT),
OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and
OTEL_TRACES_SAMPLER_ARG; OTEL_TRACES_EXPORTER=none keeps spans in the process and
OTEL_SDK_DISABLED=true turns tracing off. Without an endpoint, spans are made (log lines still
carry their trace id) but sent nowhere.
"""

import os
from collections.abc import MutableMapping
from functools import lru_cache
from typing import Any

from fastapi.telemetry import TelemetryConfig
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.logging import LoggingInstrumentor
{%- if cookiecutter.rate_limit_storage == "redis" %}
from opentelemetry.instrumentation.redis import RedisInstrumentor
{%- endif %}
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine

SERVICE_NAME = "{{ cookiecutter.project_slug }}"
# Probes and scrapes arrive every few seconds and tell nothing about anyone's request.
UNTRACED_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


@lru_cache
def tracer_provider() -> TracerProvider:
    """One provider per process; the SDK reads the sampler and OTEL_SDK_DISABLED itself."""
    provider = TracerProvider(resource=_resource())
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower()
    if exporter == "otlp" and any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _resource() -> Resource:
    detected = Resource.create()  # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        return detected.merge(Resource({"service.name": SERVICE_NAME}))
    return detected


def start_tracing() -> TelemetryConfig:
    """Puts trace ids on log records and returns FastAPI's telemetry settings.

    FastAPI's own metrics and log export stay off: Prometheus counts requests, and log lines go
    through app/observability/logging.py, which redacts them.
    """
    provider = tracer_provider()
    logging_instrumentor = LoggingInstrumentor()
    if not logging_instrumentor.is_instrumented_by_opentelemetry:
        # otelTraceID / otelSpanID on every record; the handlers stay ours.
        logging_instrumentor.instrument(
            tracer_provider=provider,
            inject_trace_context=True,
            enable_log_auto_instrumentation=False,
        )
{%- if cookiecutter.rate_limit_storage == "redis" %}
    redis_instrumentor = RedisInstrumentor()
    if not redis_instrumentor.is_instrumented_by_opentelemetry:
        redis_instrumentor.instrument(tracer_provider=provider)
{%- endif %}
    return {
        "tracer_provider": provider,
        "metrics": False,
        "logs": False,
        "exclude": _untraced,
    }


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


def trace_database(engine: AsyncEngine) -> None:
    """Spans for the engine's SQL (statements with placeholders; bound values are never recorded).

    The instrumentor is one per process and follows the newest engine: a server process builds
    one app, tests build many.
    """
    instrumentor = SQLAlchemyInstrumentor()
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
    # Its declared range stops below SQLAlchemy 2.1, whose engine events it uses are unchanged;
    # tests/observability/test_tracing.py proves the spans, so a real break fails there, not silently.
    instrumentor.instrument(
        engine=engine.sync_engine, tracer_provider=tracer_provider(), skip_dep_check=True
    )
