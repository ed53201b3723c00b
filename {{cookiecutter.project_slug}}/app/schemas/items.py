import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.inputs import InputModel, PatchModel
from app.schemas.pagination import PageParams

Title = Annotated[str, Field(min_length=1, max_length=200, examples=["Example"])]
Description = Annotated[str, Field(max_length=5000, examples=["A longer text."])]


class ItemCreate(InputModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: Title
    description: Description | None = None


class ItemUpdate(PatchModel):
    model_config = ConfigDict(str_strip_whitespace=True)
    not_nullable = frozenset({"title"})

    title: Title | None = None
    description: Description | None = None


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str | None
    owner_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


ItemSort = Literal["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]


class ItemListParams(PageParams):
    title_contains: str | None = Field(
        default=None, max_length=200, description="Part of title, any case."
    )
    description_contains: str | None = Field(
        default=None, max_length=200, description="Part of description, any case."
    )
    sort: ItemSort = "-created_at"
