"""Dependencies shared by the endpoints, as `Annotated` aliases."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.rate_limit import count_account_email, count_login_attempt
from app.core.config import Settings
from app.core.exceptions import ForbiddenError, UnauthorizedError
from app.db.session import SAFE_METHODS, Database
{%- if cookiecutter.background_jobs == "taskiq" %}
from app.jobs.queue import EmailJobs
{%- else %}
from app.jobs.in_process import EmailJobs
{%- endif %}
from app.models.users import Role, User
from app.schemas.auth import AccountEmailRequest, LoginForm
from app.services.account import AccountService
from app.services.auth import AuthService
from app.services.email_verification import EmailVerificationService
{%- if cookiecutter.example_resource %}
from app.services.items import ItemService
{%- endif %}
from app.services.users import UserService

LOGIN_URL = "/api/v1/auth/login"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=LOGIN_URL, auto_error=False)


# async: a plain `def` dependency is run in the thread pool, a costly hop on every request.
# Not core.config.get_settings: the app's own settings, which tests build without the environment.
async def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


# Takes the request, not DatabaseDep: each level of dependencies costs FastAPI work per request.
async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.db
    if request.method in SAFE_METHODS:  # read-only: nothing to commit, any write raises
        async with database.reads() as session:
            yield session
    else:
        async with database.transaction() as session:
            yield session


# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# Services that hash passwords open their own short units of work (read, hash, write), so their
# routes take no request session: none is held while bcrypt runs or waits for a slot.
async def get_auth_service(database: DatabaseDep, settings: SettingsDep) -> AuthService:
    return AuthService(database, settings)


async def get_account_service(database: DatabaseDep, settings: SettingsDep) -> AccountService:
    return AccountService(database, settings)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
AccountServiceDep = Annotated[AccountService, Depends(get_account_service)]


TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


# Authentication reads the user in a unit of its own that ends before the route's session opens,
# so routes that hash (PATCH /users/me) hold nothing meanwhile; declare the user dependency before
# any service that takes the request session (a second session while one is held is refused).
# The settings come straight from the app: each level of dependencies costs FastAPI work on
# every authenticated request.
async def _signed_in_user(request: Request, token: str | None) -> User:
    auth = AuthService(request.app.state.db, request.app.state.settings)
    user = await auth.user_for_access_token(token)
    if not user.is_active:  # deactivation takes effect on the next request, not at expiry
        raise UnauthorizedError()
    return user


async def get_signed_in_user(request: Request, token: TokenDep) -> User:
    """The token's active user, verified or not."""
    return await _signed_in_user(request, token)


SignedInUser = Annotated[User, Depends(get_signed_in_user)]


async def get_current_active_user(request: Request, token: TokenDep) -> User:
    """A signed-in user; unverified ones may only read unless UNVERIFIED_USER_ACCESS=full."""
    user = await _signed_in_user(request, token)
    settings: Settings = request.app.state.settings
    read_only = settings.unverified_user_access == "read_only"
    if read_only and not user.is_verified and request.method not in SAFE_METHODS:
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


async def counted_login_form(
    request: Request, response: Response, form: Annotated[LoginForm, Form()]
) -> LoginForm:
    """The login form, parsed once, its attempt counted against the account it targets."""
    await count_login_attempt(request, response, form.username)
    return form


LoginFormDep = Annotated[LoginForm, Depends(counted_login_form)]


async def get_user_service(session: SessionDep, settings: SettingsDep) -> UserService:
    return UserService(session, settings)


async def get_email_verification_service(
    session: SessionDep, settings: SettingsDep
) -> EmailVerificationService:
    return EmailVerificationService(session, settings)


# async on purpose: a plain `def` dependency would be sent to the thread pool for nothing.
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
EmailVerificationServiceDep = Annotated[
    EmailVerificationService, Depends(get_email_verification_service)
]


async def get_email_jobs(request: Request, background: BackgroundTasks) -> EmailJobs:
    return EmailJobs.for_request(request, background)


async def account_email_request(
    request: Request, response: Response, data: AccountEmailRequest
) -> AccountEmailRequest:
    """The request body, counted against the address it names (RATE_LIMIT_EMAIL_ACCOUNT)."""
    await count_account_email(request, response, data.email)
    return data


EmailJobsDep = Annotated[EmailJobs, Depends(get_email_jobs)]
AccountEmailRequestDep = Annotated[AccountEmailRequest, Depends(account_email_request)]
{%- if cookiecutter.example_resource %}


async def get_item_service(session: SessionDep) -> ItemService:
    return ItemService(session)


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
{%- endif %}
