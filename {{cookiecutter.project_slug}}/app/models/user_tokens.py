import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db.base import Base, UTCDateTime, UUIDPrimaryKey


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    EMAIL_VERIFICATION = "email_verification"
    # Mailed to the old address when the email changes: puts it back and ends every session.
    EMAIL_CHANGE_UNDO = "email_change_undo"


class UserToken(UUIDPrimaryKey, Base):
    """A single-use token mailed to a user. Only its SHA-256 is stored, never the token."""

    __tablename__ = "user_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(
        Enum(
            TokenPurpose,
            native_enum=False,
            length=30,
            values_callable=lambda purposes: [p.value for p in purposes],
        )
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The address the link went to: a verification only counts for that address.
    email: Mapped[str] = mapped_column(String(320))
    # The user's token_version at issue: a password change or logout-all since then voids it.
    user_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Set once the email left: a retried job does not send it twice.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
