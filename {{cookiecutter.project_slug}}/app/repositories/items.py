import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from app.models.items import Item
from app.repositories.base import Repository, RowPage, sort_clause

SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": Item.created_at,
    "updated_at": Item.updated_at,
    "title": Item.title,
}


class ItemRepository(Repository[Item]):
    model = Item

    async def search(
        self,
        columns: Iterable[str],
        *,
        owner_id: uuid.UUID | None,
        title_contains: str | None = None,
        description_contains: str | None = None,
        sort: str = "-created_at",
        limit: int,
        offset: int,
    ) -> RowPage:
        """Items matching every filter given; only `owner_id`'s unless it is None (admins)."""
        conditions: list[ColumnElement[bool]] = []
        if owner_id is not None:
            conditions.append(Item.owner_id == owner_id)
        if title_contains:
            conditions.append(Item.title.icontains(title_contains, autoescape=True))
        if description_contains:
            conditions.append(Item.description.icontains(description_contains, autoescape=True))
        return await self.list_columns(
            columns,
            conditions=conditions,
            order_by=[sort_clause(sort, SORT_COLUMNS), Item.id],
            limit=limit,
            offset=offset,
        )
