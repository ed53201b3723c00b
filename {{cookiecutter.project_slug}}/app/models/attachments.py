import uuid

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey


class Attachment(UUIDPrimaryKey, Timestamps, Base):
    """A stored file of an item. Its bytes live in the file storage under `key`.

    Deleting an item deletes its attachment rows (CASCADE); their objects are then orphans,
    which `make prune-files` removes.
    """

    __tablename__ = "attachments"

    item_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), index=True
    )
    # The client's file name, sanitised (app/core/files.py): shown and sent back, never a path.
    name: Mapped[str] = mapped_column(String(255))
    # Detected from the bytes, never taken from the client.
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    # Chosen by the service; unique so that one object never belongs to two rows.
    key: Mapped[str] = mapped_column(String(128), unique=True)
