import uuid

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, Timestamps, UUIDPrimaryKey
from app.models.users import User


class Item(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "items"

    title: Mapped[str] = mapped_column(String(200), index=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # lazy="raise": a forgotten eager load fails in tests instead of becoming N+1 queries.
    owner: Mapped[User] = relationship(lazy="raise")
