"""The small interface every file storage offers, so services never know where bytes live."""

import re
from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime
from typing import Protocol

# Keys are chosen by the service (a UUID); anything else is refused before it becomes a path.
SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")


class InvalidKeyError(ValueError):
    pass


def checked_key(key: str) -> str:
    if not SAFE_KEY.match(key):
        raise InvalidKeyError(f"not a storage key: {key!r}")
    return key


async def runs_of(chunks: AsyncIterable[bytes], nbytes: int) -> AsyncIterator[list[bytes]]:
    """The chunks in runs of at least `nbytes` (only the last may be shorter), kept as they
    are: each storage writes or sends a run at once instead of a chunk per network read."""
    run: list[bytes] = []
    held = 0
    async for chunk in chunks:
        run.append(chunk)
        held += len(chunk)
        if held >= nbytes:
            yield run
            run, held = [], 0
    if run:
        yield run


class FileStorage(Protocol):
    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Stores the chunks under `key` as one object, visible only once complete; returns its
        size. If the chunks raise (or the caller is cancelled), nothing is left behind."""
        ...

    async def delete(self, key: str) -> None:
        """Removes the object; a missing one is not an error (deleting twice is safe)."""
        ...

    async def keys(self, *, before: datetime) -> list[str]:
        """Every complete object's key written before `before` (for pruning orphans)."""
        ...

    async def discard_partial(self, *, before: datetime) -> int:
        """Removes uploads abandoned before `before` (a crash mid-save); returns how many."""
        ...

    async def close(self) -> None: ...
