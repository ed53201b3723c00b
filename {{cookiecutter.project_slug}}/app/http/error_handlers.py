"""The handlers that turn every failure into the one envelope `{"error": {...}}`."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.exceptions import (
    AppError,
    BadRequestError,
    ConflictError,
    DatabaseUnavailableError,
    InvalidInputError,
    ServerBusyError,
{%- if cookiecutter.file_storage != "none" %}
    UploadRefusedError,
{%- endif %}
)
from app.http.routing import documented_methods, routed_methods
{%- if cookiecutter.file_storage != "none" %}
from app.observability.metrics import PASSWORD_HASHING_REJECTIONS, UPLOADS_REFUSED
{%- else %}
from app.observability.metrics import PASSWORD_HASHING_REJECTIONS
{%- endif %}
from app.observability.request_context import current_request_id

logger = logging.getLogger(__name__)

# Error codes for HTTP errors raised by the framework itself (404 route, 405 method ...).
HTTP_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": jsonable_encoder(details),
            "request_id": current_request_id(),
        }
    }


def error_response(error: AppError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message, error.details),
        status_code=error.status_code,
        headers=error.headers,
    )


async def handle_app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    level = logging.ERROR if exc.status_code >= 500 else logging.INFO
    logger.log(level, "%s %s -> %s %s", request.method, request.url.path, exc.status_code, exc.code)
    return error_response(exc)


async def handle_server_busy(request: Request, exc: Exception) -> JSONResponse:
    # Counted here, not where it is raised: app.core stays free of the metrics library.
    PASSWORD_HASHING_REJECTIONS.inc()
    return await handle_app_error(request, exc)
{%- if cookiecutter.file_storage != "none" %}


async def handle_upload_refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UploadRefusedError)
    UPLOADS_REFUSED.labels(exc.reason).inc()
    return await handle_app_error(request, exc)
{%- endif %}


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]} for err in exc.errors()
    ]
    return error_response(InvalidInputError(details=details))


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_STATUS_CODES.get(exc.status_code, "HTTP_ERROR")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allow(request, headers.get("Allow", ""))
    error = AppError(str(exc.detail), code=code, headers=headers)
    error.status_code = exc.status_code
    return error_response(error)


def _allow(request: Request, starlette_allow: str) -> str:
    """Every method the path answers: those documented, those of the app's own routes, and
    those of the route Starlette found."""
    app = request.app
    assert isinstance(app, FastAPI)
    path = request.url.path
    methods = documented_methods(app.openapi(), path) | routed_methods(app.routes, path)
    methods |= {method.strip() for method in starlette_allow.split(",") if method.strip()}
    return ", ".join(sorted(methods))


async def handle_integrity_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntegrityError)
    # Constraint names are stable (naming convention), so the message can stay generic.
    text = str(exc.orig).lower()
    if "foreign key" in text:
        return error_response(BadRequestError("A referenced resource does not exist"))
    if "unique" in text or "duplicate" in text:
        return error_response(ConflictError("A resource with these values already exists"))
    logger.warning("Integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
    return error_response(BadRequestError("The request violates a data constraint"))


# sqlite3 files every failure under OperationalError, "no such column" included; only these
# messages there mean "try again later".
SQLITE_TRANSIENT_ERRORS = ("database is locked", "unable to open database", "disk i/o error")


def is_database_outage(exc: DBAPIError) -> bool:
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return True
    if exc.statement is None:  # no statement yet: connecting failed (link cut mid-handshake)
        return True
    if not isinstance(exc, OperationalError):
        return False
    if type(exc.orig).__module__ == "sqlite3":
        return any(text in str(exc.orig).lower() for text in SQLITE_TRANSIENT_ERRORS)
    return True


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """A lost connection is an outage (503); any other driver error is a bug (500)."""
    assert isinstance(exc, DBAPIError)
    if is_database_outage(exc):
        return await handle_database_unavailable(request, exc)
    logger.error("Database error on %s %s", request.method, request.url.path, exc_info=exc)
    return internal_error_response()


async def handle_database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.error("Database unavailable on %s %s: %r", request.method, request.url.path, exc)
    return error_response(DatabaseUnavailableError())


def internal_error_response() -> JSONResponse:
    return JSONResponse(error_body("INTERNAL_ERROR", AppError.message), status_code=500)


def register_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(ServerBusyError, handle_server_busy)
{%- if cookiecutter.file_storage != "none" %}
    app.add_exception_handler(UploadRefusedError, handle_upload_refused)
{%- endif %}
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(IntegrityError, handle_integrity_error)
    # The driver reports a cut link as a generic DBAPIError flagged `connection_invalidated`; a
    # failed connect arrives as DatabaseUnavailableError (app/db/session.py), an AppError. A bare
    # OSError is not handled here: it may come from SMTP or any other outbound call (a plain 500).
    app.add_exception_handler(DBAPIError, handle_database_error)
    # Every pooled connection busy for DB_POOL_TIMEOUT_SECONDS: overloaded, try again later.
    app.add_exception_handler(PoolTimeoutError, handle_database_unavailable)
