"""Logging set-up: JSON lines in production, readable text locally, request id on every line."""

import json
import logging
import logging.config
import re
import time
from typing import Any

from app.core.config import Settings
from app.observability.request_context import current_request_id

# Values of these keys are never written to logs, whatever logs them.
SENSITIVE_KEYS = re.compile(r"pass(word)?|secret|token|authorization|cookie|api[_-]?key", re.I)
REDACTED = "[redacted]"
# One line per request, written by RequestContextMiddleware: request_id, method, route, status,
# duration_ms{% if cookiecutter.tracing == "opentelemetry" %}, and the trace id{% endif %}.
ACCESS_LOGGER = "app.access"
ACCESS_JSON = (
    '{"time": "%s", "level": "%s", "logger": "%s", "message": %s, "request_id": "%s",'
{%- if cookiecutter.tracing == "opentelemetry" %}
    ' "method": %s, "route": %s, "status": %d, "duration_ms": %s, "otelTraceID": "%s"}'
{%- else %}
    ' "method": %s, "route": %s, "status": %d, "duration_ms": %s}'
{%- endif %}
)
BEARER_VALUE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# A JWT logged bare (no "Bearer"): base64url JSON header `{"` always starts with "eyJ".
JWT_VALUE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Path segments that look generated (a token, a key, an id) rather than named: this long whatever
# they hold, or this long with a digit or both letter cases (a 16-character random base64url
# string lacks both about once in 10,000). Words like "setup-config.php" stay readable.
GENERATED_SEGMENT_LENGTH = 32
MIXED_SEGMENT_LENGTH = 16


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id() or "-"
        return True


class RedactSecretsFilter(logging.Filter):
    """Scrubs secrets passed as `extra` fields, under sensitive keys of logged dicts, and bearer
    values or bare JWTs inside messages and their arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in list(vars(record)):
            if SENSITIVE_KEYS.search(key):
                setattr(record, key, REDACTED)
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, dict):  # logger.info("%(name)s", mapping)
            record.args = _redact_arg(record.args)
        elif record.args:
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        return True


def scrub(text: str) -> str:
    """`text` with bearer values and bare JWTs replaced."""
    return JWT_VALUE.sub(REDACTED, BEARER_VALUE.sub(rf"\1{REDACTED}", text))


def scrub_path(path: str) -> str:
    """A client's path (no route matched it) with bearer values, JWTs and generated-looking
    segments replaced: a token pasted or mistyped into a URL must not reach the logs."""
    return "/".join(
        REDACTED if _looks_generated(segment) else segment for segment in scrub(path).split("/")
    )


def _looks_generated(segment: str) -> bool:
    if len(segment) >= GENERATED_SEGMENT_LENGTH:
        return True
    if len(segment) < MIXED_SEGMENT_LENGTH:
        return False
    has_upper, has_lower = segment != segment.lower(), segment != segment.upper()
    return (has_upper and has_lower) or any(character.isdigit() for character in segment)


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return scrub(arg)
    if isinstance(arg, dict):
        return {
            k: REDACTED if SENSITIVE_KEYS.search(str(k)) else _redact_arg(v) for k, v in arg.items()
        }
    return arg


class AccessJsonFormatter(logging.Formatter):
    """The access line as one JSON object with the same keys as every other JSON line.

    Built directly rather than by the generic JSON formatter: it runs on every request, so its
    cost counts (PERFORMANCE.md).
    """

    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """logging's default time text, with the date and clock part computed once a second."""
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"  # logging's default_msec_format

    def format(self, record: logging.LogRecord) -> str:
        fields = vars(record)
        # Only the route (and the message holding it) can carry arbitrary text: an unmatched
        # path. Everything else is ours: a time, a validated request id, numbers, a method token.
        return ACCESS_JSON % (
            self.formatTime(record),
            record.levelname,
            record.name,
            json.dumps(record.getMessage()),
            fields["request_id"],
            json.dumps(fields["method"]),
            json.dumps(fields["route"]),
            fields["status"],
            fields["duration_ms"],
{%- if cookiecutter.tracing == "opentelemetry" %}
            fields["otelTraceID"],  # set on every record by OpenTelemetry's logging instrumentation
{%- endif %}
        )


def configure_logging(settings: Settings) -> None:
    # logging's documented savings: no format here shows thread or process, so skip looking
    # them up for every record (add them back if you log them).
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
{%- if cookiecutter.tracing == "opentelemetry" %}
    text_format = (
        "%(asctime)s %(levelname)-7s [%(request_id)s] trace=%(otelTraceID)s %(name)s: %(message)s"
    )
{%- else %}
    text_format = "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"
{%- endif %}
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if settings.json_logs
        else {"format": text_format}
    )
    access_formatter: dict[str, Any] = (
        {"()": AccessJsonFormatter} if settings.json_logs else {"format": text_format}
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "request_id": {"()": RequestIdFilter},
                "redact": {"()": RedactSecretsFilter},
            },
            "formatters": {"default": formatter, "access": access_formatter},
            "handlers": {
                "default": {
                    "class": "logging.StreamHandler",
                    "formatter": "default",
                    "filters": ["request_id", "redact"],
                },
                # No filters: the middleware sets every field of an access record (request id,
                # method, route template, status, duration), and none of them can hold a secret.
                "access": {"class": "logging.StreamHandler", "formatter": "access"},
            },
            "root": {"handlers": ["default"], "level": settings.log_level.upper()},
            "loggers": {
                "uvicorn.access": {"handlers": [], "propagate": False},
                ACCESS_LOGGER: {"handlers": ["access"], "propagate": False},
            },
        }
    )
