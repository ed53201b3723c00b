"""Dependencies shared by the endpoints, as `Annotated` aliases."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
{%- if cookiecutter.realtime == "yes" %}
from functools import partial
{%- endif %}
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Form, Request, Response
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import HTTPConnection

from app.api.rate_limit import count_login_attempt, email_account_has_room
from app.core.config import Settings
from app.core.exceptions import ForbiddenError, UnauthorizedError
from app.db.session import Database, ReadSession, WriteSession
{%- if cookiecutter.realtime == "yes" %}
from app.events.hub import EventHub, Subscription
from app.http.streams import response_abort
{%- endif %}
{%- if cookiecutter.background_jobs == "taskiq" %}
from app.jobs.queue import EmailJobs
{%- else %}
from app.jobs.in_process import EmailJobs
{%- endif %}
from app.models.users import Account, Principal, Role
from app.schemas.auth import AccountEmailRequest, LoginForm
from app.services.account import AccountService
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}
from app.services.attachments import AttachmentService
{%- endif %}
from app.services.auth import AuthService
from app.services.email_verification import EmailVerificationService
{%- if cookiecutter.example_resource %}
from app.services.items import ItemService
{%- endif %}
from app.services.users import UserService
{%- if cookiecutter.file_storage != "none" %}
from app.storage import Storage
{%- endif %}

LOGIN_URL = "/api/v1/auth/login"
# Requests that must not change anything (RFC 9110 "safe" methods).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
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
{%- if cookiecutter.file_storage != "none" %}


async def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]
{%- endif %}


# An endpoint names the session it needs. Both take the request, not DatabaseDep: each level
# of dependencies costs FastAPI work on every request.
async def get_read_session(request: Request) -> AsyncIterator[ReadSession]:
    """Reads only: nothing to commit, and any write raises."""
    database: Database = request.app.state.db
    async with database.reads() as session:
        yield session


async def get_write_session(request: Request) -> AsyncIterator[WriteSession]:
    """One transaction, committed when the endpoint returns, rolled back if it raises."""
    database: Database = request.app.state.db
    async with database.transaction() as session:
        yield session


# scope="function": the session ends (a write commits) before the response is sent, so a failed
# commit is never a 2xx and no connection is held while the response goes out.
ReadSessionDep = Annotated[ReadSession, Depends(get_read_session, scope="function")]
WriteSessionDep = Annotated[WriteSession, Depends(get_write_session, scope="function")]


# Services that hash passwords open their own short units of work (read, hash, write), so their
# routes take no request session: none is held while bcrypt runs or waits for a slot.
async def get_auth_service(database: DatabaseDep, settings: SettingsDep) -> AuthService:
    return AuthService(database, settings)


{%- if cookiecutter.realtime == "yes" %}


async def get_account_service(
    request: Request, database: DatabaseDep, settings: SettingsDep
) -> AccountService:
    return AccountService(database, settings, events=request.app.state.events)
{%- else %}


async def get_account_service(database: DatabaseDep, settings: SettingsDep) -> AccountService:
    return AccountService(database, settings)
{%- endif %}


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
AccountServiceDep = Annotated[AccountService, Depends(get_account_service)]


TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


# Authentication reads the principal in a unit of its own that ends before the endpoint's
# session opens, so routes that hash (PATCH /users/me) hold nothing meanwhile; declare the user
# before the session in an endpoint's parameters (a second session while one is held is refused).
# The settings come straight from the app: each level of dependencies costs FastAPI work on
# every authenticated request.
async def signed_in_principal(connection: HTTPConnection, token: str | None) -> Principal:
    auth = AuthService(connection.app.state.db, connection.app.state.settings)
    principal = await auth.principal_for_access_token(token)
    if not principal.is_active:  # deactivation takes effect on the next request, not at expiry
        raise UnauthorizedError()
    return principal


async def get_signed_in_user(request: Request, token: TokenDep) -> Principal:
    """The token's active user, verified or not."""
    return await signed_in_principal(request, token)


SignedInUser = Annotated[Principal, Depends(get_signed_in_user)]


async def get_current_active_user(request: Request, token: TokenDep) -> Principal:
    """A signed-in user; unverified ones may only read unless UNVERIFIED_USER_ACCESS=full."""
    return _may_act(request, await signed_in_principal(request, token))


CurrentUser = Annotated[Principal, Depends(get_current_active_user)]


async def get_reading_user(request: Request, token: TokenDep, session: ReadSessionDep) -> Principal:
    """`CurrentUser`, read in the route's `ReadSessionDep` (FastAPI gives both the same session):
    a route that only reads authenticates and answers in one unit (PERFORMANCE.md)."""
    auth = AuthService(request.app.state.db, request.app.state.settings)
    principal = await auth.principal_in_session(session, token)
    if not principal.is_active:
        raise UnauthorizedError()
    return _may_act(request, principal)


# Only beside ReadSessionDep: a route that writes takes CurrentUser.
ReadingUser = Annotated[Principal, Depends(get_reading_user)]


def _may_act(request: Request, principal: Principal) -> Principal:
    settings: Settings = request.app.state.settings
    read_only = settings.unverified_user_access == "read_only"
    if read_only and not principal.is_verified and request.method not in SAFE_METHODS:
        raise ForbiddenError("Verify your email address first", code="EMAIL_NOT_VERIFIED")
    return principal


async def get_current_account(request: Request, token: TokenDep) -> Account:
    """The signed-in user's whole account (a read: unverified users may read), in one unit."""
    auth = AuthService(request.app.state.db, request.app.state.settings)
    account = await auth.account_for_access_token(token)
    if not account.is_active:
        raise UnauthorizedError()
    return account


CurrentAccount = Annotated[Account, Depends(get_current_account)]


def require_role(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only users holding one of `roles` (403 otherwise)."""

    async def check_role(user: CurrentUser) -> Principal:
        if user.role not in roles:
            raise ForbiddenError("You do not have permission to do this")
        return user

    return check_role


AdminUser = Annotated[Principal, Depends(require_role(Role.ADMIN))]


async def counted_login_form(
    request: Request, response: Response, form: Annotated[LoginForm, Form()]
) -> LoginForm:
    """The login form, parsed once, its attempt counted against the account it targets."""
    await count_login_attempt(request, response, form.username)
    return form


LoginFormDep = Annotated[LoginForm, Depends(counted_login_form)]


async def get_user_service(request: Request) -> UserService:
{%- if cookiecutter.realtime == "yes" %}
    state = request.app.state
    return UserService(state.settings, state.cache, events=state.events)
{%- else %}
    return UserService(request.app.state.settings, request.app.state.cache)
{%- endif %}


async def get_email_verification_service(settings: SettingsDep) -> EmailVerificationService:
    return EmailVerificationService(settings)


# async on purpose: a plain `def` dependency would be sent to the thread pool for nothing.
UserServiceDep = Annotated[UserService, Depends(get_user_service)]
EmailVerificationServiceDep = Annotated[
    EmailVerificationService, Depends(get_email_verification_service)
]


async def get_email_jobs(request: Request, background: BackgroundTasks) -> EmailJobs:
    return EmailJobs.for_request(request, background)


@dataclass(frozen=True, slots=True)
class AccountEmail:
    """The address a reset or verification email was asked for, and whether to send it."""

    address: str
    send: bool


async def account_email_request(request: Request, data: AccountEmailRequest) -> AccountEmail:
    """The request body's address, counted against RATE_LIMIT_EMAIL_ACCOUNT if it has room.

    No room means no email, never a different answer: see `email_account_has_room`.
    """
    return AccountEmail(data.email, send=await email_account_has_room(request, data.email))


EmailJobsDep = Annotated[EmailJobs, Depends(get_email_jobs)]
AccountEmailDep = Annotated[AccountEmail, Depends(account_email_request)]
{%- if cookiecutter.realtime == "yes" %}


async def still_signed_in(connection: HTTPConnection, token: str | None) -> bool:
    """Whether `token` still names an active user: what an open event stream re-checks."""
    try:
        await signed_in_principal(connection, token)
    except UnauthorizedError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class OpenStream:
    """An event stream of the signed-in user, registered with the hub until the response ends."""

    hub: EventHub
    subscription: Subscription
    still_allowed: Callable[[], Awaitable[bool]]


async def open_event_stream(
    request: Request, user: SignedInUser, token: TokenDep
) -> AsyncIterator[OpenStream]:
    """429 TOO_MANY_STREAMS past the caps; the stream is unregistered once its response ends.

    A stream dropped for falling behind ends its response (app/http/streams.py): its client
    stopped reading, so the send the response waits in would never finish.
    """
    hub: EventHub = request.app.state.events
    subscription = hub.subscribe(user.id, "sse")
    subscription.abort = response_abort(request.scope)
    try:
        yield OpenStream(hub, subscription, partial(still_signed_in, request, token))
    finally:
        hub.unsubscribe(subscription)


EventStreamDep = Annotated[OpenStream, Depends(open_event_stream)]
{%- endif %}
{%- if cookiecutter.example_resource %}


async def get_item_service(request: Request) -> ItemService:
{%- if cookiecutter.realtime == "yes" %}
    return ItemService(request.app.state.cache, events=request.app.state.events)
{%- else %}
    return ItemService(request.app.state.cache)
{%- endif %}


ItemServiceDep = Annotated[ItemService, Depends(get_item_service)]
{%- endif %}
{%- if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}


# Attachments open their own short units of work: no session is held while a file arrives.
async def get_attachment_service(
    database: DatabaseDep, storage: StorageDep, settings: SettingsDep, items: ItemServiceDep
) -> AttachmentService:
    return AttachmentService(database, storage, settings, items)


AttachmentServiceDep = Annotated[AttachmentService, Depends(get_attachment_service)]
{%- endif %}
