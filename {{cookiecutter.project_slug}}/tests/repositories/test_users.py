import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.users import User
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository


async def test_get_by_email_finds_the_user(session: AsyncSession, user: User) -> None:
    found = await UserRepository(session).get_by_email("user@example.com")
    assert found is not None
    assert found.id == user.id
    assert await UserRepository(session).get_by_email("missing@example.com") is None


async def test_email_is_unique_in_the_database(session: AsyncSession, user: User) -> None:
    with pytest.raises(IntegrityError):
        await UserRepository(session).create(email=user.email, hashed_password="x")


async def test_search_counts_all_matches_but_returns_one_page(
    session: AsyncSession, user: User, other_user: User, admin: User
) -> None:
    page = await UserRepository(session).search(
        email_contains=None, role=None, is_active=None, sort="email", limit=1, offset=0
    )
    assert page.total == 3
    assert [row.email for row in page.results] == ["admin@example.com"]


@pytest.mark.parametrize(("offset", "emails"), [(2, ["user@example.com"]), (5, [])])
async def test_search_total_holds_on_the_last_page_and_past_the_end(
    session: AsyncSession, user: User, other_user: User, admin: User, offset: int, emails: list[str]
) -> None:
    page = await UserRepository(session).search(
        email_contains=None, role=None, is_active=None, sort="email", limit=2, offset=offset
    )
    assert page.total == 3
    assert [row.email for row in page.results] == emails


async def test_search_with_no_match_is_an_empty_page_with_total_zero(
    session: AsyncSession, user: User
) -> None:
    page = await UserRepository(session).search(
        email_contains="nobody", role=None, is_active=None, sort="email", limit=2, offset=0
    )
    assert (page.results, page.total) == ([], 0)


async def test_delete_expired_keeps_live_and_revoked_unexpired_tokens(
    session: AsyncSession, user: User
) -> None:
    tokens = RefreshTokenRepository(session)
    now = datetime.now(UTC)
    for expires_at, revoked_at in (
        (now - timedelta(days=1), None),
        (now + timedelta(days=1), now),
        (now + timedelta(days=1), None),
    ):
        await tokens.create(
            id=uuid.uuid4(),
            user_id=user.id,
            family_id=uuid.uuid4(),
            token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
            expires_at=expires_at,
            revoked_at=revoked_at,
        )
    assert await tokens.delete_expired(now) == 1
    assert await tokens.delete_expired(now) == 0
