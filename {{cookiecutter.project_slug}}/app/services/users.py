"""Rules about accounts: self-service changes, admin management, the first superuser."""

import uuid
{%- if cookiecutter.realtime == "yes" %}
from functools import partial
{%- endif %}

from app.cache.versioned import Cache
from app.core.config import Settings
from app.core.exceptions import ConflictError, NotFoundError
from app.core.security import hash_password
from app.db.session import ReadSession, WriteSession, after_commit
{%- if cookiecutter.realtime == "yes" %}
from app.events.hub import Publisher
{%- endif %}
from app.models.users import Principal, Role, User
from app.repositories.base import ResultPage
from app.repositories.refresh_tokens import RefreshTokenRepository
from app.repositories.users import UserRepository
from app.schemas.users import UserListParams, {% if cookiecutter.realtime == "yes" %}UserRead, {% endif %}UserUpdateAdmin
from app.services.auth import end_all_sessions


class UserService:
{%- if cookiecutter.realtime == "yes" %}
    def __init__(
        self, settings: Settings, cache: Cache | None = None, *, events: Publisher | None = None
    ) -> None:
        self.settings = settings
        self.cache = cache  # None where no user is deleted (the CLI)
        self.events = events  # None where no account changes (the CLI)
{%- else %}
    def __init__(self, settings: Settings, cache: Cache | None = None) -> None:
        self.settings = settings
        self.cache = cache  # None where no user is deleted (the CLI)
{%- endif %}

    async def list(self, session: ReadSession, params: UserListParams) -> ResultPage[User]:
        return await UserRepository(session).search(
            email_contains=params.email,
            role=params.role,
            is_active=params.is_active,
            sort=params.sort,
            limit=params.limit,
            offset=params.offset,
        )

    async def get(self, session: ReadSession, user_id: uuid.UUID) -> User:
        user = await UserRepository(session).get(user_id)
        if user is None:
            raise NotFoundError("User not found")
        return user

    async def update(
        self, session: WriteSession, user_id: uuid.UUID, data: UserUpdateAdmin, *, actor: Principal
    ) -> User:
        users = UserRepository(session)
        user = await users.get_for_update(user_id)
        if user is None:
            raise NotFoundError("User not found")
        changes = data.changes()
        if user.id == actor.id and (
            changes.get("role", Role.ADMIN) != Role.ADMIN or changes.get("is_active") is False
        ):
            raise ConflictError(
                "Admins cannot demote or deactivate themselves", code="SELF_LOCKOUT"
            )
        if "email" in changes:
            await ensure_email_free(users, changes["email"], user)
        if changes.get("is_active") is False:
            # Reactivating later must not bring old tokens back to life.
            await end_all_sessions(user, users, RefreshTokenRepository(session))
{%- if cookiecutter.realtime == "yes" %}
        updated = await users.update(user, **changes)
        announce_account(session, self.events, updated)
        return updated
{%- else %}
        return await users.update(user, **changes)
{%- endif %}

    async def delete(self, session: WriteSession, user_id: uuid.UUID, *, actor: Principal) -> None:
        user = await self.get(session, user_id)
        if user.id == actor.id:
            raise ConflictError("Admins cannot delete themselves", code="SELF_LOCKOUT")
        await UserRepository(session).delete(user)
        if self.cache is not None:
            # The rows the user owned go with it (ON DELETE CASCADE), past every service that
            # would invalidate their cached reads: drop every entry instead. Deletions are rare.
            after_commit(session, self.cache.invalidate_all)

    async def ensure_superuser(
        self, session: WriteSession, email: str, password: str
    ) -> tuple[User, bool]:
        """Creates the admin if missing; returns (user, created). Running it twice is harmless."""
        users = UserRepository(session)
        existing = await users.get_by_email(email)
        if existing is not None:
            return existing, False
        hashed = await hash_password(password, self.settings)  # a CLI command: no pool to share
        user = await users.create(
            email=email, hashed_password=hashed, role=Role.ADMIN, is_verified=True
        )
        return user, True


{% if cookiecutter.realtime == "yes" %}def announce_account(session: WriteSession, events: Publisher | None, user: User) -> None:
    """`account.updated` to the user's own event streams, once the change has committed."""
    if events is not None:
        data = UserRead.model_validate(user).model_dump(mode="json")
        after_commit(session, partial(events.publish, user.id, "account.updated", data))


{% endif %}async def ensure_email_free(users: UserRepository, email: str, user: User) -> None:
    """409 EMAIL_TAKEN if another account already uses `email`."""
    other = await users.get_by_email(email)
    if other is not None and other.id != user.id:
        raise ConflictError("An account with this email already exists", code="EMAIL_TAKEN")
