"""Traces: one request gives a server span named by its route template with its SQL below it,
no span carries a secret, and the log lines of the request (its access line too) carry its trace
id."""

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.core.security import create_token
from app.main import create_app
from app.observability.logging import ACCESS_LOGGER
from app.observability.tracing import tracer_provider
from tests.settings import changed_settings

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
PASSWORD = "a password nobody may see"
SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
async def traced_app(engine: AsyncEngine, settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with its own engine on the test database (migrated by `engine`), so its SQL is
    traced as in production; the requests below only read."""
    app = create_app(changed_settings(settings, access_log=True))
    async with app.router.lifespan_context(app):
        yield app


async def call(
    app: FastAPI, exporter: InMemorySpanExporter, method: str, url: str, **kwargs: object
) -> Sequence[ReadableSpan]:
    exporter.clear()
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    return exporter.get_finished_spans()


def server_span(spans: Sequence[ReadableSpan]) -> ReadableSpan:
    servers = [span for span in spans if span.kind == SpanKind.SERVER]
    assert len(servers) == 1, [span.name for span in spans]
    return servers[0]


def descends_from(
    span: ReadableSpan, ancestor: ReadableSpan, spans: Sequence[ReadableSpan]
) -> bool:
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    parent = span.parent
    while parent is not None:
        if ancestor.context is not None and parent.span_id == ancestor.context.span_id:
            return True
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return False


def sql_spans(spans: Sequence[ReadableSpan]) -> list[ReadableSpan]:
    """Spans of executed SQL (a first request also has a `connect` span)."""
    return [span for span in spans if statement(span).startswith(SQL_VERBS)]


def statement(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("db.statement") or attributes.get("db.query.text") or "")


async def test_a_request_is_a_server_span_named_by_route_template_with_sql_children(
    traced_app: FastAPI, exporter: InMemorySpanExporter, settings: Settings
) -> None:
    token = create_token(str(uuid.uuid4()), "access", settings, version=0).token
    spans = await call(
        traced_app, exporter, "GET", ME, headers={"Authorization": f"Bearer {token}"}
    )
    server = server_span(spans)
    assert server.name == f"GET {ME}"
    assert server.attributes is not None
    assert server.attributes["http.route"] == ME
    queries = sql_spans(spans)
    assert queries, [span.name for span in spans]
    for query in queries:
        assert query.context is not None
        assert server.context is not None
        assert query.context.trace_id == server.context.trace_id
        assert descends_from(query, server, spans)
        assert "FROM users" in statement(query)


async def test_no_span_carries_a_password_token_or_authorization_header(
    traced_app: FastAPI, exporter: InMemorySpanExporter, settings: Settings
) -> None:
    token = create_token(str(uuid.uuid4()), "access", settings, version=0).token
    form = {"username": "nobody@example.com", "password": PASSWORD}
    spans = [
        *await call(
            traced_app,
            exporter,
            "POST",
            LOGIN,
            data=form,
            headers={"Authorization": f"Bearer {token}"},
        ),
        *await call(traced_app, exporter, "GET", ME, headers={"Authorization": f"Bearer {token}"}),
    ]
    assert sql_spans(spans), "the login looked the email up"
    texts = [
        f"{span.name} {key}={value}"
        for span in spans
        for key, value in {**(span.attributes or {}), **span.resource.attributes}.items()
    ]
    texts += [f"{event.name} {event.attributes}" for span in spans for event in span.events]
    for secret in (PASSWORD, token, token.split(".")[2], "Bearer"):
        assert [text for text in texts if secret in text] == []
    assert [text for text in texts if "authorization" in text.lower()] == []


async def test_log_lines_of_a_request_carry_its_trace_id(
    traced_app: FastAPI, exporter: InMemorySpanExporter
) -> None:
    handler = Records()
    logging.getLogger().addHandler(handler)
    try:
        spans = await call(traced_app, exporter, "GET", ME)  # 401: logged by the error handler
    finally:
        logging.getLogger().removeHandler(handler)
    server = server_span(spans)
    assert server.context is not None
    trace_id = format(server.context.trace_id, "032x")
    logged = [r for r in handler.records if r.name.startswith("app.")]
    assert logged
    assert {getattr(record, "otelTraceID", None) for record in logged} == {trace_id}
    assert all(getattr(record, "request_id", "-") != "-" for record in logged)


@pytest.mark.parametrize("log_json", [True, False], ids=["json", "text"])
async def test_the_access_line_carries_the_trace_id_of_its_server_span(
    engine: AsyncEngine,
    settings: Settings,
    exporter: InMemorySpanExporter,
    log_output: Callable[..., io.StringIO],
    log_json: bool,
) -> None:
    overrides = {"access_log": True, "log_json": log_json, "log_level": "INFO"}
    app = create_app(changed_settings(settings, **overrides))
    async with app.router.lifespan_context(app):
        output = log_output(ACCESS_LOGGER)
        server = server_span(await call(app, exporter, "GET", ME))
    assert server.context is not None
    trace_id = format(server.context.trace_id, "032x")
    (line,) = output.getvalue().splitlines()
    if log_json:
        assert json.loads(line)["otelTraceID"] == trace_id
    else:
        assert f" trace={trace_id} " in line


async def test_probes_and_scrapes_are_not_traced(
    traced_app: FastAPI, exporter: InMemorySpanExporter
) -> None:
    assert await call(traced_app, exporter, "GET", "/health/live") == ()
{%- if cookiecutter.rate_limit_storage == "redis" %}


async def test_rate_limit_commands_are_child_spans_without_their_arguments(
    traced_app: FastAPI, exporter: InMemorySpanExporter
) -> None:
    spans = await call(traced_app, exporter, "GET", ME)
    server = server_span(spans)
    commands = [span for span in spans if (span.attributes or {}).get("db.system") == "redis"]
    assert commands
    for command in commands:
        assert descends_from(command, server, spans)
        assert set(statement(command).split()[1:]) <= {"?"}, statement(command)
{%- endif %}
