import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.exceptions import NotFoundError
from app.models.users import User
from app.schemas.items import ItemCreate, ItemListParams, ItemUpdate
from app.services.items import ItemService


async def test_owner_and_admin_reach_an_item_others_do_not(
    session: AsyncSession, user: User, other_user: User, admin: User
) -> None:
    items = ItemService()
    item = await items.create(session, user.principal, ItemCreate(title="mine"))
    assert (await items.get(session, user.principal, item.id)).id == item.id
    assert (await items.get(session, admin.principal, item.id)).id == item.id
    with pytest.raises(NotFoundError):
        await items.get(session, other_user.principal, item.id)


async def test_update_changes_only_sent_fields(session: AsyncSession, user: User) -> None:
    items = ItemService()
    item = await items.create(session, user.principal, ItemCreate(title="t", description="d"))
    updated = await items.update(session, user.principal, item.id, ItemUpdate(title="new"))
    assert updated.title == "new"
    assert updated.description == "d"


async def test_delete_of_a_missing_item_is_not_found(session: AsyncSession, user: User) -> None:
    with pytest.raises(NotFoundError):
        await ItemService().delete(session, user.principal, uuid.uuid4())


async def test_list_counts_only_the_users_items(
    session: AsyncSession, user: User, other_user: User
) -> None:
    items = ItemService()
    await items.create(session, user.principal, ItemCreate(title="a"))
    await items.create(session, other_user.principal, ItemCreate(title="b"))
    page = await items.list(session, user.principal, ItemListParams())
    assert page.total == 1
    assert page.results[0].title == "a"
