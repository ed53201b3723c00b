import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.exceptions import ConflictError, UnauthorizedError
from app.core.security import create_token
from app.db.session import Database
from app.models.refresh_tokens import RefreshToken
from app.models.users import User
from app.schemas.users import UserCreate
from app.services.auth import AuthService
from tests.conftest import PASSWORD


async def test_register_hashes_the_password(database: Database, settings: Settings) -> None:
    user = await AuthService(database, settings).register(
        UserCreate(email="fresh@example.com", password=PASSWORD)
    )
    assert user.hashed_password != PASSWORD
    assert user.hashed_password.startswith("$2b$")


async def test_register_refuses_a_taken_email(
    database: Database, settings: Settings, user: User
) -> None:
    with pytest.raises(ConflictError):
        await AuthService(database, settings).register(
            UserCreate(email=user.email, password=PASSWORD)
        )


async def test_login_stores_only_a_hash_of_the_refresh_token(
    database: Database, session: AsyncSession, settings: Settings, user: User
) -> None:
    pair = await AuthService(database, settings).login(user.email, PASSWORD)
    rows = (await session.scalars(select(RefreshToken))).all()
    assert len(rows) == 1
    assert rows[0].token_hash != pair.refresh_token
    assert pair.refresh_token not in rows[0].token_hash


async def test_each_login_starts_a_new_family_and_refresh_keeps_it(
    database: Database, session: AsyncSession, settings: Settings, user: User
) -> None:
    auth = AuthService(database, settings)
    first = await auth.login(user.email, PASSWORD)
    await auth.login(user.email, PASSWORD)
    await auth.refresh(first.refresh_token)
    rows = (await session.scalars(select(RefreshToken))).all()
    families = [row.family_id for row in rows]
    assert len(rows) == 3
    assert len(set(families)) == 2


async def test_refresh_of_an_unknown_token_id_is_unauthorized(
    database: Database, settings: Settings, user: User
) -> None:
    forged = create_token(str(user.id), "refresh", settings, family_id=str(uuid.uuid4())).token
    with pytest.raises(UnauthorizedError):
        await AuthService(database, settings).refresh(forged)
