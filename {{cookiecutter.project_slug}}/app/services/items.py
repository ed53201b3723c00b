"""Items belong to their owner; admins may see and change every item."""

import uuid
from functools import partial

from app.cache.versioned import Cache
from app.core.exceptions import NotFoundError
from app.db.session import ReadSession, WriteSession, after_commit
{%- if cookiecutter.realtime == "yes" %}
from app.events.hub import Publisher
{%- endif %}
from app.models.items import Item
from app.models.users import Principal
from app.repositories.base import RowPage
from app.repositories.items import ItemRepository
from app.schemas.items import ItemCreate, ItemListParams, ItemRead, ItemUpdate

# A list is answered with ItemRead, so it reads only ItemRead's columns (PERFORMANCE.md).
LISTED_COLUMNS = tuple(ItemRead.model_fields)


class ItemService:
    """The single-item read is cached (app/cache/): every write of items goes
{%- if cookiecutter.realtime == "yes" %}
    through this service, which invalidates the entry once the write has committed.
    Each committed write is also announced to the owner's event streams (app/events/)."""
{%- else %}
    through this service, which invalidates the entry once the write has committed."""
{%- endif %}

{% if cookiecutter.realtime == "yes" %}    def __init__(self, cache: Cache, *, events: Publisher | None = None) -> None:
{% else %}    def __init__(self, cache: Cache) -> None:
{% endif %}        self.cache = cache
{%- if cookiecutter.realtime == "yes" %}
        self.events = events  # None: nobody is told (the CLI, service tests)
{%- endif %}

    async def create(self, session: WriteSession, owner: Principal, data: ItemCreate) -> Item:
{%- if cookiecutter.realtime == "yes" %}
        item = await ItemRepository(session).create(owner_id=owner.id, **data.model_dump())
        self._announce(session, "created", item)
        return item
{%- else %}
        return await ItemRepository(session).create(owner_id=owner.id, **data.model_dump())
{%- endif %}

    async def list(self, session: ReadSession, user: Principal, params: ItemListParams) -> RowPage:
        """A page of dicts holding exactly ItemRead's fields, for the endpoint to answer with."""
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
{%- if cookiecutter.realtime == "yes" %}
        item = await ItemRepository(session).update(item, **changes)
        self._announce(session, "updated", item)
        return item
{%- else %}
        return await ItemRepository(session).update(item, **changes)
{%- endif %}

    async def delete(self, session: WriteSession, user: Principal, item_id: uuid.UUID) -> None:
        item = await self.get(session, user, item_id)
        self._forget(session, item.id)
{%- if cookiecutter.realtime == "yes" %}
        self._announce(session, "deleted", item)
{%- endif %}
        await ItemRepository(session).delete(item)

    def _forget(self, session: WriteSession, item_id: uuid.UUID) -> None:
        """Invalidates the cached read once this write has committed (never before: a read in
        between would cache the row as it was)."""
        after_commit(session, partial(self.cache.invalidate, cache_key(item_id)))
{%- if cookiecutter.realtime == "yes" %}

    def _announce(self, session: WriteSession, change: str, item: Item) -> None:
        """Tells the owner's event streams (`item.<change>`, the row as it is now) once
        this write has committed: a rolled-back write is never announced."""
        if self.events is None:
            return
        data = ItemRead.model_validate(item).model_dump(mode="json")
        event = partial(self.events.publish, item.owner_id, f"item.{change}", data)
        after_commit(session, event)
{%- endif %}


def cache_key(item_id: uuid.UUID) -> str:
    return f"items:{item_id}"
