"""The one clock: timezone-aware UTC, for models, services and operator commands alike.

Every wall-clock "now" in app/ reads `utcnow()`, so a test can move time in one place; durations
are measured with `time.perf_counter()` or `time.monotonic()`, which no wall-clock change moves.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
