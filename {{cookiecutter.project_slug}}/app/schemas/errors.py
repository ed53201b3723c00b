"""The error envelope every failure answers with."""

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["User not found"])
    details: Any = None
    request_id: str | None = Field(default=None, examples=["3f9c0a8e2b4d4c1e9a7b6d5c4e3f2a1b"])


class ErrorResponse(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorDetail
