"""Bases of every request model: unknown fields refused, NUL refused, partial updates."""

from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, field_validator, model_validator


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
