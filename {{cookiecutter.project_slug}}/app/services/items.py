"""Items belong to their owner; admins may see and change every item."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.exceptions import NotFoundError
from app.models.items import Item
from app.models.users import Role, User
from app.repositories.base import ResultPage
from app.repositories.items import ItemRepository
from app.schemas.items import ItemCreate, ItemListParams, ItemUpdate


class ItemService:
    def __init__(self, session: AsyncSession) -> None:
        self.items = ItemRepository(session)

    async def create(self, owner: User, data: ItemCreate) -> Item:
        return await self.items.create(owner_id=owner.id, **data.model_dump())

    async def list(self, user: User, params: ItemListParams) -> ResultPage[Item]:
        return await self.items.search(
            owner_id=None if user.role == Role.ADMIN else user.id,
            title_contains=params.q,
            sort=params.sort,
            limit=params.limit,
            offset=params.offset,
        )

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
