"""Shapes shared by every resource: pages, list parameters and the error envelope."""

from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.exceptions import ERROR_DEFAULTS

MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Rows matching the filters, ignoring limit and offset.")
    limit: int
    offset: int


class InputModel(BaseModel):
    """Base of every request model: unknown fields are refused (no mass assignment) and text
    holding a NUL character is a 422 here instead of a database error later (PostgreSQL text
    and bcrypt both refuse NUL)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class PageParams(InputModel):
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Rows to skip.")


class ErrorDetail(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["User not found"])
    details: Any = None
    request_id: str | None = Field(default=None, examples=["3f9c0a8e2b4d4c1e9a7b6d5c4e3f2a1b"])


class ErrorResponse(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorDetail


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the errors an endpoint can return, each with its example."""
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


class PatchModel(InputModel):
    """Partial update: omitted fields stay as they are; fields in `not_nullable` refuse null."""

    not_nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _refuse_null_for_required_columns(self) -> Self:
        nulled = sorted(
            name
            for name in self.model_fields_set & self.not_nullable
            if getattr(self, name) is None
        )
        if nulled:
            raise ValueError(f"{', '.join(nulled)} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)
