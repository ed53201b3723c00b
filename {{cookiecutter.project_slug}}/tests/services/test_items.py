import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.exceptions import NotFoundError
from app.models.users import User
from app.schemas.items import ItemCreate, ItemListParams, ItemUpdate
from app.services.items import ItemService
from tests.api.test_items import payload


def data(n: int) -> ItemCreate:
    return ItemCreate.model_validate(payload(n))


async def test_owner_and_admin_reach_an_item_others_do_not(
    session: AsyncSession, user: User, other_user: User, admin: User
) -> None:
    service = ItemService()
    item = await service.create(session, user.principal, data(1))
    assert (await service.get(session, user.principal, item.id)).id == item.id
    assert (await service.get(session, admin.principal, item.id)).id == item.id
    with pytest.raises(NotFoundError):
        await service.get(session, other_user.principal, item.id)


async def test_list_counts_only_the_users_items(
    session: AsyncSession, user: User, other_user: User
) -> None:
    service = ItemService()
    mine = await service.create(session, user.principal, data(1))
    await service.create(session, other_user.principal, data(2))
    page = await service.list(session, user.principal, ItemListParams())
    assert page.total == 1
    assert page.results[0].id == mine.id


async def test_update_changes_only_sent_fields(session: AsyncSession, user: User) -> None:
    service = ItemService()
    item = await service.create(session, user.principal, data(1))
    before = data(1).model_dump()
    change = ItemUpdate.model_validate({"title": payload(2)["title"]})
    updated = await service.update(session, user.principal, item.id, change)
    assert updated.title == data(2).title
    assert updated.description == before["description"]


async def test_a_missing_item_is_not_found(session: AsyncSession, user: User) -> None:
    service = ItemService()
    with pytest.raises(NotFoundError):
        await service.delete(session, user.principal, uuid.uuid4())
