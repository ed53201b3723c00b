"""The one clock: timezone-aware UTC, for models, services and operator commands alike."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
