"""A user's own password-protected changes: profile and password, and a mailed password reset.

Like registration and login, these hash passwords, so the service opens its own units of work
and does the hashing between them, never while a pooled connection is held.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from app.core.config import Settings
from app.core.exceptions import BadRequestError, UnauthorizedError
from app.core.security import hash_password, verify_password
from app.db.session import Database, WriteSession
{%- if cookiecutter.realtime == "yes" %}
from app.events.hub import Publisher
{%- endif %}
from app.models.user_tokens import TokenPurpose
from app.models.users import Principal, User
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.schemas.users import UserUpdateMe
from app.services.auth import end_all_sessions
from app.services.user_tokens import UserTokenService, invalid_token
from app.services.users import {% if cookiecutter.realtime == "yes" %}announce_account, {% endif %}ensure_email_free


@dataclass(frozen=True, slots=True)
class EmailChangeNotice:
    """The undo link to mail to the address an email change replaced (job `job_id`)."""

    old_email: str
    job_id: str


@dataclass(frozen=True, slots=True)
class UpdatedAccount:
    user: User
    notice: EmailChangeNotice | None


class AccountService:
{%- if cookiecutter.realtime == "yes" %}
    def __init__(
        self, database: Database, settings: Settings, *, events: Publisher | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.events = events
{%- else %}
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings
{%- endif %}

    async def update_me(self, signed_in: Principal, data: UserUpdateMe) -> UpdatedAccount:
        """Applies a user's own changes. A new password or email needs the current password and
        ends every session, this one included; a new email also mails the old one an undo link."""
        changes = data.changes()
        changes.pop("current_password", None)
        if "password" in changes or "email" in changes:
            await self._check_password(signed_in, data.current_password or "")
        if "password" in changes:
            changes["hashed_password"] = await hash_password(changes.pop("password"), self.settings)
        async with self.database.transaction() as session:
            users = UserRepository(session)
            user = await users.get_for_update(signed_in.id)
            # Signed out (or password changed) since this request was authenticated or checked.
            if user is None or user.token_version != signed_in.token_version:
                raise UnauthorizedError()
            notice = None
            if changes.get("email", user.email) != user.email:
                await ensure_email_free(users, changes["email"], user)
                # The new address is unproven; POST /auth/verify-email/resend mails it a link.
                changes["is_verified"] = False
                notice = await self._prepare_undo(session, user)
            if "hashed_password" in changes or notice is not None:
                await end_all_sessions(user, users, RefreshTokenRepository(session))
{%- if cookiecutter.realtime == "yes" %}
            updated = await users.update(user, **changes)
            announce_account(session, self.events, updated)
            return UpdatedAccount(updated, notice)
{%- else %}
            return UpdatedAccount(await users.update(user, **changes), notice)
{%- endif %}

    async def _prepare_undo(self, session: WriteSession, user: User) -> EmailChangeNotice:
        """Stores the undo token for the address being replaced; the notice job mails it."""
        notice = EmailChangeNotice(old_email=user.email, job_id=uuid.uuid4().hex)
        await UserTokenService(session, self.settings).issue(
            user,
            TokenPurpose.EMAIL_CHANGE_UNDO,
            job_id=notice.job_id,
            lifetime=timedelta(hours=self.settings.email_change_undo_expire_hours),
        )
        return notice

    async def undo_email_change(self, token: str) -> None:
        """Puts back the address the link was mailed to, and ends every session."""
        async with self.database.transaction() as session:
            users = UserRepository(session)
            tokens = UserTokenService(session, self.settings)
            record, user = await tokens.redeem(token, TokenPurpose.EMAIL_CHANGE_UNDO)
            await ensure_email_free(users, record.email, user)
            # Following the link proves the old address, as verification would.
            await users.update(user, email=record.email, is_verified=True)
            await end_all_sessions(user, users, RefreshTokenRepository(session))

    async def _check_password(self, signed_in: Principal, password: str) -> None:
        async with self.database.reads() as session:
            account = await UserRepository(session).get(signed_in.id)
        hashed = account.hashed_password if account is not None else None
        if not await verify_password(password, hashed, self.settings):
            raise BadRequestError("The current password is wrong", code="WRONG_PASSWORD")

    async def reset_password(self, token: str, new_password: str) -> None:
        """Sets the new password and ends every session; the link then stops working."""
        hashed = await hash_password(new_password, self.settings)
        async with self.database.transaction() as session:
            users = UserRepository(session)
            record, user = await UserTokenService(session, self.settings).redeem(
                token, TokenPurpose.PASSWORD_RESET
            )
            # Issued before the last password change, email change or logout-all, or mailed to
            # an address the account no longer uses: that link is stale.
            if record.user_version != user.token_version or record.email != user.email:
                raise invalid_token()
            # Following the mailed link proves the address too.
            verified = user.is_verified or record.email == user.email
            await users.update(user, hashed_password=hashed, is_verified=verified)
            await end_all_sessions(user, users, RefreshTokenRepository(session))
