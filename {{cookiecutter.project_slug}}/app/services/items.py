"""Items belong to their owner; admins may see and change every item."""

import uuid

from app.core.exceptions import NotFoundError
from app.db.session import ReadSession, WriteSession
from app.models.items import Item
from app.models.users import Principal
from app.repositories.base import ResultPage
from app.repositories.items import ItemRepository
from app.schemas.items import ItemCreate, ItemListParams, ItemUpdate


class ItemService:
    async def create(self, session: WriteSession, owner: Principal, data: ItemCreate) -> Item:
        return await ItemRepository(session).create(owner_id=owner.id, **data.model_dump())

    async def list(
        self, session: ReadSession, user: Principal, params: ItemListParams
    ) -> ResultPage[Item]:
        return await ItemRepository(session).search(
            owner_id=None if user.is_admin else user.id,
            title_contains=params.title_contains,
            description_contains=params.description_contains,
            sort=params.sort,
            limit=params.limit,
            offset=params.offset,
        )

    async def get(self, session: ReadSession, user: Principal, item_id: uuid.UUID) -> Item:
        """Another user's item is reported missing, not forbidden: its existence is not leaked."""
        item = await ItemRepository(session).get(item_id)
        if item is None or (item.owner_id != user.id and not user.is_admin):
            raise NotFoundError("Item not found")
        return item

    async def update(
        self, session: WriteSession, user: Principal, item_id: uuid.UUID, data: ItemUpdate
    ) -> Item:
        item = await self.get(session, user, item_id)
        changes = data.changes()
        return await ItemRepository(session).update(item, **changes)

    async def delete(self, session: WriteSession, user: Principal, item_id: uuid.UUID) -> None:
        item = await self.get(session, user, item_id)
        await ItemRepository(session).delete(item)
