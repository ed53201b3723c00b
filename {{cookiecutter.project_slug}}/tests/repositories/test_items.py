import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.users import User
from app.repositories.items import ItemRepository
from app.schemas.items import ItemListParams


async def test_search_filters_by_owner_and_escapes_like_wildcards(
    session: AsyncSession, user: User, other_user: User
) -> None:
    items = ItemRepository(session)
    await items.create(title="50% off", owner_id=user.id)
    await items.create(title="under_score", owner_id=user.id)
    await items.create(title="50% theirs", owner_id=other_user.id)
    mine, total = await items.search(ItemListParams(q="%"), owner_id=user.id)
    assert total == 1
    assert [item.title for item in mine] == ["50% off"]
    everyone, total_all = await items.search(ItemListParams(q="50%"), owner_id=None)
    assert total_all == 2
    underscore, _ = await items.search(ItemListParams(q="_"), owner_id=None)
    assert [item.title for item in underscore] == ["under_score"]


async def test_owner_relationship_is_not_lazy_loaded(session: AsyncSession, user: User) -> None:
    item = await ItemRepository(session).create(title="x", owner_id=user.id)
    with pytest.raises(InvalidRequestError):
        _ = item.owner
