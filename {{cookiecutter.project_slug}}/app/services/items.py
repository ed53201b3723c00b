"""Items belong to their owner; admins may see and change every item."""

import uuid
from functools import partial

from app.cache.versioned import Cache
from app.core.exceptions import NotFoundError
from app.db.session import ReadSession, WriteSession, after_commit
from app.models.items import Item
from app.models.users import Principal
from app.repositories.base import RowPage
from app.repositories.items import ItemRepository
from app.schemas.items import ItemCreate, ItemListParams, ItemRead, ItemUpdate

# A list is answered with ItemRead, so it reads only ItemRead's columns (PERFORMANCE.md).
LISTED_COLUMNS = tuple(ItemRead.model_fields)


class ItemService:
    """The single-item read is cached (app/cache/): every write of items goes
    through this service, which invalidates the entry once the write has committed."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    async def create(self, session: WriteSession, owner: Principal, data: ItemCreate) -> Item:
        return await ItemRepository(session).create(owner_id=owner.id, **data.model_dump())

    async def list(self, session: ReadSession, user: Principal, params: ItemListParams) -> RowPage:
        """A page of rows holding exactly ItemRead's fields, for the endpoint to answer with."""
        return await ItemRepository(session).search(
            LISTED_COLUMNS,
            owner_id=None if user.is_admin else user.id,
            title_contains=params.title_contains,
            description_contains=params.description_contains,
            sort=params.sort,
            limit=params.limit,
            offset=params.offset,
        )

    async def read(self, session: ReadSession, user: Principal, item_id: uuid.UUID) -> ItemRead:
        """One item, from the cache while its entry is current.

        The entry is the row, whoever read it first; the owner check runs on every read, so
        one user's read never answers another's.
        """

        async def load() -> ItemRead | None:
            item = await ItemRepository(session).get(item_id)
            return None if item is None else ItemRead.model_validate(item)

        item = await self.cache.get_or_load(cache_key(item_id), ItemRead, load)
        if item is None or (item.owner_id != user.id and not user.is_admin):
            raise NotFoundError("Item not found")
        return item

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
        self._forget(session, item.id)
        return await ItemRepository(session).update(item, **changes)

    async def delete(self, session: WriteSession, user: Principal, item_id: uuid.UUID) -> None:
        item = await self.get(session, user, item_id)
        self._forget(session, item.id)
        await ItemRepository(session).delete(item)

    def _forget(self, session: WriteSession, item_id: uuid.UUID) -> None:
        """Invalidates the cached read once this write has committed (never before: a read in
        between would cache the row as it was)."""
        after_commit(session, partial(self.cache.invalidate, cache_key(item_id)))


def cache_key(item_id: uuid.UUID) -> str:
    return f"items:{item_id}"
