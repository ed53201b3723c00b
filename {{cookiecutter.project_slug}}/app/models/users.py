import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Enum, Integer, String, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True, index=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Stored as text (not a native enum type) so adding a role needs no type migration.
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=20,
            values_callable=lambda roles: [r.value for r in roles],
        ),
        default=Role.USER,
        server_default=Role.USER.value,
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # Set when the owner follows the link mailed to `email`; changing the email clears it.
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Copied into every access token as `ver`; bumping it (logout-all, password change,
    # deactivation) makes every access token issued before that moment useless at once.
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def principal(self) -> "Principal":
        return Principal(self.id, self.role, self.is_active, self.is_verified, self.token_version)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: what authorization needs of a User, read on every request.

    Immutable and detached from any session: a route that changes the account loads the User
    through UserRepository in its own transaction.
    """

    id: uuid.UUID
    role: Role
    is_active: bool
    is_verified: bool
    token_version: int

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


@dataclass(frozen=True, slots=True)
class Account(Principal):
    """A Principal with the profile a user sees of their own account, read in the same single
    statement: for routes that answer with the signed-in account itself (GET /users/me)."""

    email: str
    full_name: str
    created_at: datetime
    updated_at: datetime
