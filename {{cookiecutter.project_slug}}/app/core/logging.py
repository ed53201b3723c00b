"""Logging set-up: JSON lines in production, readable text locally, request id on every line."""

import logging
import logging.config
import re
from typing import Any

from app.core.config import Settings
from app.core.request_context import current_request_id

# Values of these keys are never written to logs, whatever logs them.
SENSITIVE_KEYS = re.compile(r"pass(word)?|secret|token|authorization|cookie|api[_-]?key", re.I)
REDACTED = "[redacted]"
BEARER_VALUE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# A JWT logged bare (no "Bearer"): base64url JSON header `{"` always starts with "eyJ".
JWT_VALUE = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


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
            record.msg = _scrub(record.msg)
        if isinstance(record.args, dict):  # logger.info("%(name)s", mapping)
            record.args = _redact_arg(record.args)
        elif record.args:
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        return True


def _scrub(text: str) -> str:
    return JWT_VALUE.sub(REDACTED, BEARER_VALUE.sub(rf"\1{REDACTED}", text))


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return _scrub(arg)
    if isinstance(arg, dict):
        return {
            k: REDACTED if SENSITIVE_KEYS.search(str(k)) else _redact_arg(v) for k, v in arg.items()
        }
    return arg


def configure_logging(settings: Settings) -> None:
    formatter: dict[str, Any] = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if settings.json_logs
        else {
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s{% if cookiecutter.tracing == "opentelemetry" %} trace=%(otelTraceID)s{% endif %}] %(name)s: %(message)s",
        }
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {
                "request_id": {"()": RequestIdFilter},
                "redact": {"()": RedactSecretsFilter},
            },
            "formatters": {"default": formatter},
            "handlers": {
                "default": {
                    "class": "logging.StreamHandler",
                    "formatter": "default",
                    "filters": ["request_id", "redact"],
                }
            },
            "root": {"handlers": ["default"], "level": settings.log_level.upper()},
            "loggers": {"uvicorn.access": {"handlers": [], "propagate": False}},
        }
    )
