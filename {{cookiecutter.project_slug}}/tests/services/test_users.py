import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.exceptions import BadRequestError
from app.core.security import verify_password
from app.db.session import Database
from app.models.users import Role, User
from app.schemas.users import UserUpdateMe
from app.services.account import AccountService
from app.services.users import UserService
from tests.conftest import PASSWORD


async def test_ensure_superuser_is_idempotent(session: AsyncSession, settings: Settings) -> None:
    users = UserService(settings)
    first, created = await users.ensure_superuser(session, "root@example.com", PASSWORD)
    again, created_again = await users.ensure_superuser(session, "root@example.com", PASSWORD)
    assert created
    assert not created_again
    assert first.id == again.id
    assert first.role == Role.ADMIN


async def test_password_change_needs_the_current_password(
    database: Database, settings: Settings, user: User
) -> None:
    accounts = AccountService(database, settings)
    with pytest.raises(BadRequestError):
        await accounts.update_me(
            user.principal, UserUpdateMe(password="new password 1", current_password="not it")
        )
    changed = await accounts.update_me(
        user.principal, UserUpdateMe(password="new password 1", current_password=PASSWORD)
    )
    assert await verify_password("new password 1", changed.user.hashed_password, settings)
