import uuid
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from app.models.items import Item
from app.repositories.base import Repository, sort_clause
from app.schemas.items import ItemListParams

SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": Item.created_at,
    "updated_at": Item.updated_at,
    "title": Item.title,
}


class ItemRepository(Repository[Item]):
    model = Item

    async def search(
        self, params: ItemListParams, *, owner_id: uuid.UUID | None
    ) -> tuple[list[Item], int]:
        """Items matching `params`; only `owner_id`'s items unless it is None (admins)."""
        conditions: list[ColumnElement[bool]] = []
        if owner_id is not None:
            conditions.append(Item.owner_id == owner_id)
        if params.q:
            conditions.append(Item.title.icontains(params.q, autoescape=True))
        return await self.list(
            conditions=conditions,
            order_by=[sort_clause(params.sort, SORT_COLUMNS), Item.id],
            limit=params.limit,
            offset=params.offset,
        )
