"""Files on a local disk (LOCAL_STORAGE_DIR): one directory, one file per key.

Every disk call runs in a worker thread (anyio), so a slow disk never stalls the event loop. A
save writes a temporary file in the same filesystem and renames it into place when complete:
readers see the whole file or none. Each run of the file is written while the next one arrives,
and (on Linux) sent on to the disk at once, so the final fsync waits for the last run only, not
for the whole file. One disk serves one machine: see docs/operations.md.
"""

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import anyio

from app.storage.base import checked_key, runs_of

CHUNK_BYTES = 64 * 1024
# Written per trip to a worker thread: a trip per network read (at most 256 KiB) was most of
# an upload's time. One run is written while the next arrives: at most two are held in memory
# (PERFORMANCE.md).
WRITE_BYTES = 4 * 1024 * 1024
PARTIAL_DIR = ".partial"


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.partial = root / PARTIAL_DIR

    async def save(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        target = self._path(key)
        await anyio.Path(self.partial).mkdir(parents=True, exist_ok=True)
        temporary = anyio.Path(self.partial / f"{key}.{uuid.uuid4().hex}")
        try:
            async with await anyio.open_file(temporary, "xb") as file:
                size = await _write_behind(file.wrapped, runs_of(chunks, WRITE_BYTES))
                # On disk before it gets its name: a crash leaves a partial file, never a torn one.
                await anyio.to_thread.run_sync(os.fsync, file.wrapped.fileno())
            await temporary.rename(target)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await temporary.unlink(missing_ok=True)
            raise
        return size

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """The file's bytes in chunks; FileNotFoundError now (not mid-stream) if it is missing."""
        file = await anyio.open_file(self._path(key), "rb")
        return self._read(file)

    async def _read(self, file: anyio.AsyncFile[bytes]) -> AsyncIterator[bytes]:
        async with file:
            while chunk := await file.read(CHUNK_BYTES):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)

    async def keys(self, *, before: datetime) -> list[str]:
        return [path.name for path in await self._files_older(self.root, before)]

    async def discard_partial(self, *, before: datetime) -> int:
        stale = await self._files_older(self.partial, before)
        for path in stale:
            await anyio.Path(path).unlink(missing_ok=True)
        return len(stale)

    async def close(self) -> None:
        """Nothing to release: files are opened per call."""

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    async def _files_older(self, folder: Path, before: datetime) -> list[Path]:
        return await anyio.to_thread.run_sync(_files_older, folder, before)


async def _write_behind(file: IO[bytes], runs: AsyncIterator[list[bytes]]) -> int:
    """Writes each run in a worker thread while the next one is received; returns the size.

    If the runs raise (or the caller is cancelled), the write under way finishes first
    (`shield`: cancelling the caller does not cancel it), so the caller can remove the file
    without a thread still writing to it.
    """
    size = 0
    writing: asyncio.Task[None] | None = None
    try:
        async for run in runs:
            if writing is not None:
                await asyncio.shield(writing)
            writing = asyncio.create_task(anyio.to_thread.run_sync(_write_run, file, run))
            size += sum(map(len, run))
        if writing is not None:
            await asyncio.shield(writing)
    except BaseException:
        if writing is not None:
            with anyio.CancelScope(shield=True):
                await asyncio.gather(writing, return_exceptions=True)
        raise
    return size


def _write_run(file: IO[bytes], run: list[bytes]) -> None:
    start = file.tell()
    file.writelines(run)
    file.flush()
    if sys.platform == "linux":
        # Starts writing the run to disk now, while the rest of the file arrives, instead of
        # the final fsync writing the whole file with the upload waiting (PERFORMANCE.md); the
        # kernel then drops the written pages, so an upload does not push other files out of
        # the page cache. PostgreSQL's pg_flush_data does the same where sync_file_range (which
        # Python's os module lacks) is missing.
        os.posix_fadvise(file.fileno(), start, file.tell() - start, os.POSIX_FADV_DONTNEED)


def _files_older(folder: Path, before: datetime) -> list[Path]:
    if not folder.is_dir():
        return []
    cutoff = before.astimezone(UTC).timestamp()
    return [
        Path(entry.path)
        for entry in os.scandir(folder)
        if entry.is_file() and entry.stat().st_mtime < cutoff
    ]
