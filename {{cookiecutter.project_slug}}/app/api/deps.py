"""Dependencies shared by the endpoints, as `Annotated` aliases."""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.exceptions import ForbiddenError, UnauthorizedError
from app.core.rate_limit import count_account_email
from app.core.security import InvalidTokenError, decode_token
from app.db.session import Database
{%- if cookiecutter.background_jobs == "taskiq" %}
from app.jobs.queue import EmailJobs
{%- else %}
from app.jobs.in_process import EmailJobs
{%- endif %}
from app.models.users import Role, User
from app.repositories.users import UserRepository
from app.schemas.auth import AccountEmailRequest
from app.services.auth import AuthService
from app.services.email_verification import EmailVerificationService
{%- if cookiecutter.example_resource %}
from app.services.items import ItemService
{%- endif %}
from app.services.password_reset import PasswordResetService
from app.services.users import UserService

LOGIN_URL = "/api/v1/auth/login"
# What an unverified account may still do under UNVERIFIED_USER_ACCESS=read_only.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=LOGIN_URL, auto_error=False)


# async: a plain `def` dependency is run in the thread pool, a costly hop on every request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    async with database.transaction() as session:
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


async def get_signed_in_user(user: Annotated[User, Depends(get_current_user)]) -> User:
    """Deactivation takes effect on the next request, not when the token expires."""
    if not user.is_active:
        raise UnauthorizedError()
    return user


SignedInUser = Annotated[User, Depends(get_signed_in_user)]


async def get_current_active_user(
    user: SignedInUser, request: Request, settings: SettingsDep
) -> User:
    """A signed-in user; unverified ones may only read unless UNVERIFIED_USER_ACCESS=full."""
    read_only = settings.unverified_user_access == "read_only"
    if read_only and not user.is_verified and request.method not in READ_METHODS:
        raise ForbiddenError("Verify your email address first", code="EMAIL_NOT_VERIFIED")
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


async def get_password_reset_service(
    session: SessionDep, settings: SettingsDep
) -> PasswordResetService:
    return PasswordResetService(session, settings)


async def get_email_verification_service(
    session: SessionDep, settings: SettingsDep
) -> EmailVerificationService:
    return EmailVerificationService(session, settings)


# async on purpose: a plain `def` dependency would be sent to the thread pool for nothing.
AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
PasswordResetServiceDep = Annotated[PasswordResetService, Depends(get_password_reset_service)]
EmailVerificationServiceDep = Annotated[
    EmailVerificationService, Depends(get_email_verification_service)
]


async def get_email_jobs(request: Request, background: BackgroundTasks) -> EmailJobs:
    return EmailJobs.for_request(request, background)


async def account_email_request(
    request: Request, response: Response, data: AccountEmailRequest
) -> AccountEmailRequest:
    """The request body, counted against the address it names (RATE_LIMIT_EMAIL_ACCOUNT)."""
    count_account_email(request, response, data.email)
    return data


EmailJobsDep = Annotated[EmailJobs, Depends(get_email_jobs)]
AccountEmailRequestDep = Annotated[AccountEmailRequest, Depends(account_email_request)]
{%- if cookiecutter.example_resource %}


async def get_item_service(session: SessionDep) -> ItemService:
    return ItemService(session)


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
{%- endif %}
