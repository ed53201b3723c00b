import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.users import User
from app.repositories.items import ItemRepository
from app.schemas.items import ItemCreate, ItemRead
from tests.api.test_items import payload

# What the service lists: the read schema's columns.
COLUMNS = tuple(ItemRead.model_fields)


def values(n: int, **changes: object) -> dict[str, object]:
    return {**ItemCreate.model_validate(payload(n)).model_dump(), **changes}


async def test_search_counts_all_matches_but_returns_one_page(
    session: AsyncSession, user: User
) -> None:
    repository = ItemRepository(session)
    for n in (1, 2, 3):
        await repository.create(owner_id=user.id, **values(n))
    page = await repository.search(COLUMNS, owner_id=user.id, sort="-title", limit=2, offset=0)
    assert page.total == 3
    assert len(page.results) == 2
    assert page.results[0]["title"] == values(3)["title"]


async def test_search_treats_like_wildcards_literally(session: AsyncSession, user: User) -> None:
    repository = ItemRepository(session)
    await repository.create(owner_id=user.id, **values(1, title="50% off"))
    await repository.create(owner_id=user.id, **values(2, title="under_score"))
    percent = await repository.search(
        COLUMNS, owner_id=None, title_contains="%", limit=10, offset=0
    )
    underscore = await repository.search(
        COLUMNS, owner_id=None, title_contains="_", limit=10, offset=0
    )
    assert [row["title"] for row in percent.results] == ["50% off"]
    assert [row["title"] for row in underscore.results] == ["under_score"]


async def test_search_keeps_to_the_owner(
    session: AsyncSession, user: User, other_user: User
) -> None:
    repository = ItemRepository(session)
    mine = await repository.create(owner_id=user.id, **values(1))
    await repository.create(owner_id=other_user.id, **values(2))
    mine_only = await repository.search(COLUMNS, owner_id=user.id, limit=10, offset=0)
    assert (mine_only.total, [row["id"] for row in mine_only.results]) == (1, [mine.id])
    everyone = await repository.search(COLUMNS, owner_id=None, limit=10, offset=0)
    assert everyone.total == 2


async def test_owner_relationship_is_not_lazy_loaded(session: AsyncSession, user: User) -> None:
    item = await ItemRepository(session).create(owner_id=user.id, **values(1))
    with pytest.raises(InvalidRequestError):
        _ = item.owner
