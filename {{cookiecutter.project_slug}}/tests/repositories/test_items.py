import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.users import User
from app.repositories.items import ItemRepository


async def test_search_filters_by_owner_and_escapes_like_wildcards(
    session: AsyncSession, user: User, other_user: User
) -> None:
    items = ItemRepository(session)
    await items.create(title="50% off", owner_id=user.id)
    await items.create(title="under_score", owner_id=user.id)
    await items.create(title="50% theirs", owner_id=other_user.id)
    window = {"sort": "title", "limit": 20, "offset": 0}
    mine = await items.search(owner_id=user.id, title_contains="%", **window)
    assert mine.total == 1
    assert [item.title for item in mine.results] == ["50% off"]
    everyone = await items.search(owner_id=None, title_contains="50%", **window)
    assert everyone.total == 2
    underscore = await items.search(owner_id=None, title_contains="_", **window)
    assert [item.title for item in underscore.results] == ["under_score"]


async def test_owner_relationship_is_not_lazy_loaded(session: AsyncSession, user: User) -> None:
    item = await ItemRepository(session).create(title="x", owner_id=user.id)
    with pytest.raises(InvalidRequestError):
        _ = item.owner
