"""First come, first served access to the connection pool.

The pool's own wait (an asyncio.Queue) is not fair: a connection handed back for a request that
has waited is taken by a request that arrived a moment later, whenever the newcomer runs before
the woken waiter; the waiter then queues again at the back. With more requests at once than
pooled connections, some requests lost every race and waited many times longer than the rest
(PERFORMANCE.md has the measurements). A semaphore sized to the pool queues the requests in
arrival order before they reach it, so the pool itself never waits.

A task holds one turn at a time. A second session opened while the first is open would wait for
a turn while holding one: under load every turn is held that way and nothing moves until the pool
timeout. That is refused at once (NestedSessionError), so the mistake fails in tests.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.exc import TimeoutError as PoolTimeoutError

_holding_turn: ContextVar[bool] = ContextVar("holding_database_turn", default=False)


class NestedSessionError(RuntimeError):
    """A session was opened while the same task already held one: a bug, never a client error."""


class ConnectionQueue:
    """At most `size` sessions at once, granted in arrival order, each wait at most `timeout_s`."""

    def __init__(self, size: int, timeout_s: float) -> None:
        # asyncio.Semaphore is FIFO: while anyone waits, a newcomer waits behind them.
        self._semaphore = asyncio.Semaphore(size)
        self._timeout_s = timeout_s

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if _holding_turn.get():
            raise NestedSessionError(
                "a database session was opened while this task held another; finish the first "
                "(for a route: declare the user dependency before services that take a session)"
            )
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._semaphore.acquire()
        except TimeoutError as exc:
            # The pool's own timeout error, so the same 503 envelope (Retry-After) answers it.
            raise PoolTimeoutError(
                f"no database connection came free within {self._timeout_s} s"
            ) from exc
        _holding_turn.set(True)
        try:
            yield
        finally:
            # set, not reset(token): the exit may run in a copy of the context it was entered in.
            _holding_turn.set(False)
            self._semaphore.release()
