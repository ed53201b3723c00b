"""OpenAPI `responses=` entries, so each endpoint documents the errors it can return."""

from typing import Any

from app.core.exceptions import ERROR_DEFAULTS
from app.schemas.errors import ErrorResponse


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The entries for `status_codes`, each with its example envelope."""
    return {status: _documented_error(status) for status in status_codes}


def _documented_error(status: int) -> dict[str, Any]:
    code, message = ERROR_DEFAULTS[status]
    example = {
        "error": {"code": code, "message": message, "details": None, "request_id": "3f9c0a8e"}
    }
    return {
        "model": ErrorResponse,
        "description": message,
        "content": {"application/json": {"example": example}},
    }
