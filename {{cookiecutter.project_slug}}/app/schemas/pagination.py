"""One page of any list, and the query parameters that choose it."""

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.inputs import InputModel

MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """`results`, not the resource's name: copying a resource by search-and-replace leaves it be."""

    # Built straight from a service's page of ORM rows.
    model_config = ConfigDict(from_attributes=True)

    results: list[T]
    total: int = Field(description="Rows matching the filters, ignoring limit and offset.")
    limit: int
    offset: int


class PageParams(InputModel):
    limit: int = Field(20, ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Rows to skip.")
