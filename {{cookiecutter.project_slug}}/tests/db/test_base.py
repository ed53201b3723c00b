"""What the database keeps and enforces, whichever engine runs it."""

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Uuid, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.refresh_tokens import RefreshToken
from app.models.users import Role, User
from app.repositories.users import UserRepository


def token_for(user: User, expires_at: datetime) -> RefreshToken:
    return RefreshToken(
        id=uuid.uuid4(),
        user_id=user.id,
        family_id=uuid.uuid4(),
        token_hash=uuid.uuid4().hex * 2,
        expires_at=expires_at,
    )


async def test_timestamps_come_back_aware_and_as_the_same_instant(
    session: AsyncSession, user: User
) -> None:
    tokyo = timezone(timedelta(hours=9))
    expires_at = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=tokyo)
    token = token_for(user, expires_at)
    session.add(token)
    await session.flush()
    # Straight from the database, not from the identity map.
    stored = await session.scalar(
        select(RefreshToken.expires_at).where(RefreshToken.id == token.id)
    )
    assert stored is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == expires_at


async def test_server_defaults_fill_rows_written_without_the_orm(session: AsyncSession) -> None:
    # Raw SQL skips every Python-side default: what is filled in comes from the migration.
    user_id = uuid.uuid4()
    insert = text("INSERT INTO users (id, email, hashed_password) VALUES (:id, :email, 'x')")
    await session.execute(
        insert.bindparams(bindparam("id", type_=Uuid)), {"id": user_id, "email": "raw@example.com"}
    )
    row = (await session.execute(select(User).where(User.id == user_id))).scalar_one()
    assert row.is_active is True
    assert row.role == Role.USER
    assert row.full_name == ""
    assert row.created_at.tzinfo is not None
    assert abs(datetime.now(UTC) - row.created_at) < timedelta(minutes=5)


async def test_naive_timestamps_are_refused(session: AsyncSession, user: User) -> None:
    session.add(token_for(user, datetime(2030, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        await session.flush()


async def test_comparisons_across_time_zones_use_the_instant(
    session: AsyncSession, user: User
) -> None:
    session.add(token_for(user, datetime(2030, 1, 1, 12, tzinfo=UTC)))
    await session.flush()
    # 20:00 at UTC+9 is 11:00 UTC: before the token expires, although later on the clock face.
    tokyo_evening = datetime(2030, 1, 1, 20, tzinfo=timezone(timedelta(hours=9)))
    later = await session.scalars(
        select(RefreshToken.id).where(RefreshToken.expires_at > tokyo_evening)
    )
    assert len(list(later)) == 1


async def test_foreign_keys_are_enforced(session: AsyncSession, user: User) -> None:
    orphan = token_for(user, datetime.now(UTC))
    orphan.user_id = uuid.uuid4()
    session.add(orphan)
    with pytest.raises(IntegrityError, match="(?i)foreign key"):
        await session.flush()


async def test_deleting_a_user_cascades_to_their_refresh_tokens(
    session: AsyncSession, user: User
) -> None:
    session.add(token_for(user, datetime.now(UTC) + timedelta(days=1)))
    await session.flush()
    await UserRepository(session).delete(user)
    remaining = await session.scalar(select(func.count()).select_from(RefreshToken))
    assert remaining == 0


async def test_unique_violations_name_the_constraint_kind(
    session: AsyncSession, user: User
) -> None:
    # The error handler maps on this wording: "unique" -> 409, "foreign key" -> 400.
    session.add(User(email=user.email, hashed_password="x"))
    with pytest.raises(IntegrityError, match="(?i)unique|duplicate"):
        await session.flush()
