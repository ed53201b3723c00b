"""Declarative base with stable constraint names and the columns every table shares."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, MetaData, TypeDecorator, Uuid, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.core.clock import utcnow

# Stable names let Alembic diff, drop and rename constraints reliably.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    # Every column: a per-owner constraint (owner_id, name) must not take the name of another.
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps the offset itself; SQLite stores text without one and reads back naive
    values. Converting to UTC on the way in and tagging UTC on the way out gives both the same
    behaviour. A naive value is refused: its meaning would depend on the machine's clock.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        return value.astimezone(UTC)
{% if cookiecutter.database == "postgresql" %}
    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # asyncpg already reads every timestamptz as an aware UTC datetime: converting it again
        # would be a Python call per timestamp per row, for nothing (PERFORMANCE.md).
        if dialect.driver == "asyncpg":
            return None
        return super().result_processor(dialect, coltype)
{% endif %}
    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKey:
    """Random ids: nothing to guess or count from the outside."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.now(), onupdate=utcnow
    )
