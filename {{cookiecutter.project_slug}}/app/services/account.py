"""A user's own password-protected changes: profile and password, and a mailed password reset.

Like registration and login, these hash passwords, so the service opens its own units of work
and does the hashing between them, never while a pooled connection is held.
"""

from app.core.config import Settings
from app.core.exceptions import BadRequestError, UnauthorizedError
from app.core.security import hash_password, verify_password
from app.db.session import Database
from app.models.user_tokens import TokenPurpose
from app.models.users import Principal, User
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.schemas.users import UserUpdateMe
from app.services.auth import end_all_sessions
from app.services.user_tokens import UserTokenService, invalid_token
from app.services.users import ensure_email_free


class AccountService:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    async def update_me(self, signed_in: Principal, data: UserUpdateMe) -> User:
        """Applies a user's own changes; a new password needs the current one and ends sessions."""
        changes = data.changes()
        changes.pop("current_password", None)
        if "password" in changes:
            await self._check_password(signed_in, data.current_password or "")
            changes["hashed_password"] = await hash_password(changes.pop("password"), self.settings)
        async with self.database.transaction() as session:
            users = UserRepository(session)
            user = await users.get_for_update(signed_in.id)
            # Signed out (or password changed) since this request was authenticated or checked.
            if user is None or user.token_version != signed_in.token_version:
                raise UnauthorizedError()
            if "email" in changes:
                await ensure_email_free(users, changes["email"], user)
                # The new address is unproven; POST /auth/verify-email/resend mails it a link.
                changes["is_verified"] = user.is_verified and changes["email"] == user.email
            if "hashed_password" in changes:
                # A new password ends every session that used the old one, this one included.
                await end_all_sessions(user, users, RefreshTokenRepository(session))
            return await users.update(user, **changes)

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
            # Issued before the last password change (or logout-all): that link is stale.
            if record.user_version != user.token_version:
                raise invalid_token()
            # Following the mailed link proves the address too.
            verified = user.is_verified or record.email == user.email
            await users.update(user, hashed_password=hashed, is_verified=verified)
            await end_all_sessions(user, users, RefreshTokenRepository(session))
