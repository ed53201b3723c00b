"""A circuit breaker for an optional store (rate-limit counters, the cache): plain Python.

After the store fails, callers skip it for `open_seconds`; then one caller probes it. What a
skipped call does instead (count nothing, read the database) is the caller's choice.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)


class StorageBreaker:
    """Fails open for `open_seconds` after the store fails; then lets one request probe it.

    `on_state(True)` runs when it opens and `on_state(False)` when the store answers again;
    `on_failure()` on every failure (metrics). `name` says which store in the logs.
    """

    def __init__(
        self,
        open_seconds: float,
        *,
        name: str,
        consequence: str,
        on_state: Callable[[bool], None] = lambda _open: None,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self.open_seconds = open_seconds
        self.name = name
        self.consequence = consequence
        self._on_state = on_state
        self._on_failure = on_failure
        self._open_until: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def admits(self) -> bool:
        """Whether this request may use the store (otherwise it goes on without it)."""
        if self._open_until is None:
            return True
        if self._probing or time.monotonic() < self._open_until:
            return False
        self._probing = True
        return True

    def succeeded(self) -> None:
        if self._open_until is not None:
            logger.warning("%s answers again", self.name)
            self._on_state(False)
        self._open_until = None
        self._probing = False

    def abandoned(self) -> None:
        """The call was cancelled before it told anything: the next request may probe."""
        self._probing = False

    def failed(self, exc: BaseException) -> None:
        self._on_failure()
        if self._open_until is None:
            logger.warning(
                "%s failed (%r): %s for %.0f s",
                self.name,
                exc,
                self.consequence,
                self.open_seconds,
            )
            self._on_state(True)
        self._open_until = time.monotonic() + self.open_seconds
        self._probing = False

    async def guarded(self, call: Callable[[], Awaitable[T]], timeout_s: float) -> T | None:
        """`call`'s result within `timeout_s`; None when the breaker skips it or the store fails.

        Never raises for the store: whatever it raises, the request goes on without it.
        """
        if not self.admits():
            return None
        try:
            async with asyncio.timeout(timeout_s):
                result = await call()
        except asyncio.CancelledError:
            self.abandoned()  # the client left: the store's state is still unknown
            raise
        except Exception as exc:  # whatever the store raises, the request must not fail for it
            self.failed(exc)
            return None
        self.succeeded()
        return result
