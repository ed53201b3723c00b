"""Items belong to their owner; admins may see and change every item."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.exceptions import NotFoundError
from app.models.items import Item
from app.models.users import Role, User
from app.repositories.items import ItemRepository
from app.schemas.common import Page
from app.schemas.items import ItemCreate, ItemListParams, ItemRead, ItemUpdate


class ItemService:
    def __init__(self, session: AsyncSession) -> None:
        self.items = ItemRepository(session)

    async def create(self, owner: User, data: ItemCreate) -> Item:
        return await self.items.create(owner_id=owner.id, **data.model_dump())

    async def list(self, user: User, params: ItemListParams) -> Page[ItemRead]:
        owner_filter = None if user.role == Role.ADMIN else user.id
        rows, total = await self.items.search(params, owner_id=owner_filter)
        items = [ItemRead.model_validate(row) for row in rows]
        return Page(items=items, total=total, limit=params.limit, offset=params.offset)

    async def get(self, user: User, item_id: uuid.UUID) -> Item:
        """Another user's item is reported missing, not forbidden: its existence is not leaked."""
        item = await self.items.get(item_id)
        if item is None or (item.owner_id != user.id and user.role != Role.ADMIN):
            raise NotFoundError("Item not found")
        return item

    async def update(self, user: User, item_id: uuid.UUID, data: ItemUpdate) -> Item:
        item = await self.get(user, item_id)
        return await self.items.update(item, **data.changes())

    async def delete(self, user: User, item_id: uuid.UUID) -> None:
        item = await self.get(user, item_id)
        await self.items.delete(item)
