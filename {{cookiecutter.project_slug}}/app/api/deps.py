"""Dependencies shared by the endpoints, as `Annotated` aliases."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.exceptions import ForbiddenError, UnauthorizedError
from app.core.security import InvalidTokenError, decode_token
from app.db.session import Database
from app.models.users import Role, User
from app.repositories.users import UserRepository
from app.services.auth import AuthService
{%- if cookiecutter.example_resource %}
from app.services.items import ItemService
{%- endif %}
from app.services.users import UserService

LOGIN_URL = "/api/v1/auth/login"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=LOGIN_URL, auto_error=False)


# async: a plain `def` dependency is run in the thread pool, a costly hop on every request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    async with database.session_for(request.method) as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_current_user(
    token: Annotated[str | None, Depends(oauth2_scheme)],
    session: SessionDep,
    settings: SettingsDep,
) -> User:
    """The user named by a valid access token; 401 for a missing, bad, orphaned or outdated one.

    Outdated: issued before the user's last logout-all, password change or deactivation.
    """
    if not token:
        raise UnauthorizedError("Not authenticated")
    try:
        claims = decode_token(token, "access", settings)
        user_id = uuid.UUID(claims.subject)
    except (InvalidTokenError, ValueError) as exc:
        raise UnauthorizedError() from exc
    user = await UserRepository(session).get(user_id)
    if user is None or claims.version != user.token_version:
        raise UnauthorizedError()
    return user


async def get_current_active_user(user: Annotated[User, Depends(get_current_user)]) -> User:
    """Deactivation takes effect on the next request, not when the token expires."""
    if not user.is_active:
        raise UnauthorizedError()
    return user


CurrentUser = Annotated[User, Depends(get_current_active_user)]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through only users holding one of `roles` (403 otherwise)."""

    async def check_role(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ForbiddenError("You do not have permission to do this")
        return user

    return check_role


AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]


async def get_auth_service(session: SessionDep, settings: SettingsDep) -> AuthService:
    return AuthService(session, settings)


async def get_user_service(session: SessionDep, settings: SettingsDep) -> UserService:
    return UserService(session, settings)


# async on purpose: a plain `def` dependency would be sent to the thread pool for nothing.
AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
{%- if cookiecutter.example_resource %}


async def get_item_service(session: SessionDep) -> ItemService:
    return ItemService(session)


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
{%- endif %}
