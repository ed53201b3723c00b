"""One error root and its subclasses: what services raise. `error_handlers` turns them into responses."""

from collections.abc import Mapping
from typing import Any


class AppError(Exception):
    """Root of every error the service raises on purpose."""

    status_code = 500
    code = "INTERNAL_ERROR"
    message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = dict(headers or {})
        super().__init__(self.message)


class BadRequestError(AppError):
    status_code = 400
    code = "BAD_REQUEST"
    message = "Bad request"


class UnauthorizedError(AppError):
    status_code = 401
    code = "UNAUTHORIZED"
    message = "Could not validate credentials"

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class ForbiddenError(AppError):
    status_code = 403
    code = "FORBIDDEN"
    message = "Not allowed"


class NotFoundError(AppError):
    status_code = 404
    code = "NOT_FOUND"
    message = "Not found"


class ConflictError(AppError):
    status_code = 409
    code = "CONFLICT"
    message = "Conflict"


class PayloadTooLargeError(AppError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "Request body too large"


class InvalidInputError(AppError):
    status_code = 422
    code = "VALIDATION_ERROR"
    message = "Request validation failed"


class RateLimitedError(AppError):
    status_code = 429
    code = "RATE_LIMITED"
    message = "Too many requests"
{%- if cookiecutter.realtime == "yes" %}


class TooManyStreamsError(AppError):
    """An event stream past EVENTS_MAX_STREAMS_PER_USER or _PER_INSTANCE; `cap` says which."""

    status_code = 429
    code = "TOO_MANY_STREAMS"
    message = "Too many open event streams"

    def __init__(self, cap: str) -> None:
        super().__init__(details={"cap": cap})
        self.cap = cap
{%- endif %}


{% if cookiecutter.file_storage != "none" %}class UploadRefusedError(AppError):
    """An upload the service will not store; `reason` labels the `uploads_refused` metric."""

    reason = "refused"


class FileTooLargeError(UploadRefusedError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    message = "The file is larger than the service accepts"
    reason = "too_large"


class UnsupportedFileTypeError(UploadRefusedError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    message = "This type of file is not accepted"
    reason = "type"


class EmptyFileError(UploadRefusedError):
    status_code = 422
    code = "EMPTY_FILE"
    message = "The file is empty"
    reason = "empty"


class MalformedUploadError(UploadRefusedError):
    status_code = 400
    code = "MALFORMED_UPLOAD"
    message = "Send the file as multipart/form-data in the field `file`"
    reason = "malformed"


class UploadInterruptedError(UploadRefusedError):
    """The client stopped sending before the file ended (nobody reads this answer)."""

    status_code = 400
    code = "UPLOAD_INTERRUPTED"
    message = "The upload ended before the file did"
    reason = "interrupted"


{% endif %}class ServiceUnavailableError(AppError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"
    message = "Service temporarily unavailable"


class ServerBusyError(ServiceUnavailableError):
    """More password checks are waiting than the service can run in time: try again shortly.

    Raised by password hashing's admission (app/core/security.py) only; the HTTP layer counts
    each one as `password_hashing_rejections_total`."""

    code = "SERVER_BUSY"
    message = "Too many sign-ins at once, try again shortly"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(headers={"Retry-After": str(retry_after_seconds)})


class DatabaseUnavailableError(ServiceUnavailableError):
    """No connection to the database could be opened (refused, unknown host, timed out)."""

    message = "The database is unavailable, try again shortly"
    retry_after_seconds = 5

    def __init__(self) -> None:
        super().__init__(headers={"Retry-After": str(self.retry_after_seconds)})


# The code and message each status answers with by default; OpenAPI examples are built from it.
ERROR_DEFAULTS: dict[int, tuple[str, str]] = {
    error.status_code: (error.code, error.message)
    for error in (
        BadRequestError,
        UnauthorizedError,
        ForbiddenError,
        NotFoundError,
        ConflictError,
        PayloadTooLargeError,
{% if cookiecutter.file_storage != "none" %}        UnsupportedFileTypeError,
{% endif %}        InvalidInputError,
        RateLimitedError,
        ServiceUnavailableError,
        AppError,
    )
}
