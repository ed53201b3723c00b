import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.cache.versioned import Cache
from app.core.exceptions import NotFoundError
from app.db.session import Database
from app.models.users import User
from app.repositories.items import ItemRepository
from app.schemas.items import ItemCreate, ItemListParams, ItemUpdate
from app.services.items import ItemService
from tests.api.test_items import payload


def data(n: int) -> ItemCreate:
    return ItemCreate.model_validate(payload(n))


async def test_owner_and_admin_reach_an_item_others_do_not(
    session: AsyncSession, user: User, other_user: User, admin: User, cache: Cache
) -> None:
    service = ItemService(cache)
    item = await service.create(session, user.principal, data(1))
    assert (await service.get(session, user.principal, item.id)).id == item.id
    assert (await service.get(session, admin.principal, item.id)).id == item.id
    with pytest.raises(NotFoundError):
        await service.get(session, other_user.principal, item.id)


async def test_list_counts_only_the_users_items(
    session: AsyncSession, user: User, other_user: User, cache: Cache
) -> None:
    service = ItemService(cache)
    mine = await service.create(session, user.principal, data(1))
    await service.create(session, other_user.principal, data(2))
    page = await service.list(session, user.principal, ItemListParams())
    assert page.total == 1
    assert page.results[0]["id"] == mine.id


async def test_update_changes_only_sent_fields(
    session: AsyncSession, user: User, cache: Cache
) -> None:
    service = ItemService(cache)
    item = await service.create(session, user.principal, data(1))
    before = data(1).model_dump()
    change = ItemUpdate.model_validate({"title": payload(2)["title"]})
    updated = await service.update(session, user.principal, item.id, change)
    assert updated.title == data(2).title
    assert updated.description == before["description"]


async def test_a_missing_item_is_not_found(session: AsyncSession, user: User, cache: Cache) -> None:
    service = ItemService(cache)
    with pytest.raises(NotFoundError):
        await service.delete(session, user.principal, uuid.uuid4())


async def test_reads_come_from_the_cache_until_a_committed_write(
    database: Database, user: User, cache: Cache
) -> None:
    service = ItemService(cache)
    field = "title"

    async def read() -> object:
        async with database.reads() as unit:
            return getattr(await service.read(unit, user.principal, item_id), field)

    async with database.transaction() as unit:
        item_id = (await service.create(unit, user.principal, data(1))).id
    first = await read()
    async with database.transaction() as unit:  # behind the service's back: not invalidated
        repository = ItemRepository(unit)
        row = await repository.get(item_id)
        assert row is not None
        await repository.update(row, **{field: getattr(data(2), field)})
    assert await read() == first  # so the read is served from the cache
    change = ItemUpdate.model_validate({field: payload(3)[field]})
    async with database.transaction() as unit:
        await service.update(unit, user.principal, item_id, change)
        assert await read() == first  # not committed yet
    assert await read() == getattr(data(3), field)  # committed: invalidated
