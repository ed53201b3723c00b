"""Realtime events through the served template: 1,000 idle SSE streams on one worker.

Targets (issue 24): with STREAMS streams of one user open on one server process, its RSS growth
and CPU while idle are reported; each of EVENTS changes reaches every stream, and the p99 time
from sending the change to a stream receiving it is at most 250 ms. Every wait is bounded: a
stream that fails to open or misses an event is counted as an error, never waited for forever.
"""

import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

STREAMS = 1000
EVENTS = 5
# The streams of one user: the server's per-user cap must let them all in (bench/__main__.py).
MAX_STREAMS_PER_USER = STREAMS
IDLE_SECONDS = 20.0  # more than one heartbeat (EVENTS_HEARTBEAT_SECONDS, 15 by default)
OPEN_SECONDS = 60.0
EVENT_SECONDS = 10.0
PAUSE_SECONDS = 1.0
P99_LIMIT_MS = 250.0


def _memory(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) * 1024
    raise LookupError("VmRSS")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Stream:
    """One SSE connection, read as raw lines: a thousand of them cost the bench little."""

    # Set whenever any stream receives an event: what the bench waits on.
    arrivals = asyncio.Event()

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.received: dict[str, float] = {}  # full_name -> when it arrived

    @classmethod
    async def open(cls, host: str, port: int, token: str) -> "Stream":
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            f"GET /api/v1/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        status = await reader.readline()
        if b" 200 " not in status:
            writer.close()
            raise ConnectionError(status.decode(errors="replace").strip())
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        return cls(reader, writer)

    async def read(self) -> None:
        """Notes when each event's data arrives (chunked framing lines are skipped as noise)."""
        while line := await self.reader.readline():
            if line.startswith(b"data: "):
                data = json.loads(line[6:])
                self.received.setdefault(str(data.get("full_name")), time.perf_counter())
                self.arrivals.set()

    def close(self) -> None:
        self.writer.close()


def _change(base_url: str, token: str, name: str) -> None:
    request = urllib.request.Request(
        f"{base_url}/api/v1/users/me",
        data=json.dumps({"full_name": name}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


async def _open_all(host: str, port: int, token: str) -> tuple[list[Stream], int]:
    results = await asyncio.gather(
        *(Stream.open(host, port, token) for _ in range(STREAMS)), return_exceptions=True
    )
    streams = [result for result in results if isinstance(result, Stream)]
    return streams, len(results) - len(streams)


async def _run(base_url: str, pid: int, token: str) -> dict[str, Any]:
    host, port = base_url.removeprefix("http://").split(":")
    before = _memory(pid)
    async with asyncio.timeout(OPEN_SECONDS):
        streams, refused = await _open_all(host, int(port), token)
    readers = [asyncio.create_task(stream.read()) for stream in streams]
    try:
        cpu_before, started = _cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(IDLE_SECONDS)
        idle_cpu = (_cpu_seconds(pid) - cpu_before) / (time.perf_counter() - started)
        grown = _memory(pid) - before
        latencies, missed = [], 0
        for number in range(EVENTS):
            name = f"Bench event {number}"
            sent = time.perf_counter()
            await asyncio.to_thread(_change, base_url, token, name)
            await _all_received(streams, name)
            arrived = [s.received[name] - sent for s in streams if name in s.received]
            latencies += arrived
            missed += len(streams) - len(arrived)
            await asyncio.sleep(PAUSE_SECONDS)
    finally:
        for stream in streams:
            stream.close()
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    latencies.sort()
    return {
        "streams": len(streams),
        "refused": refused,
        "rss_growth_mib": round(grown / 2**20, 1),
        "rss_per_stream_kib": round(grown / max(len(streams), 1) / 1024, 1),
        "idle_cpu_percent": round(idle_cpu * 100, 2),
        "events": EVENTS,
        "deliveries": len(latencies),
        "missed": missed,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round((latencies[-1] if latencies else 0.0) * 1000, 1),
    }


async def _all_received(streams: list[Stream], name: str) -> None:
    """Returns once every stream has `name`, or after EVENT_SECONDS (the rest count as missed)."""
    try:
        async with asyncio.timeout(EVENT_SECONDS):
            while True:
                Stream.arrivals.clear()  # before the check: an arrival after it wakes the wait
                if all(name in stream.received for stream in streams):
                    return
                await Stream.arrivals.wait()
    except TimeoutError:
        return


def _percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))] if values else float("inf")


def measure(base_url: str, pid: int, token: str) -> dict[str, Any]:
    return asyncio.run(_run(base_url, pid, token))


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    errors = int(result["refused"]) + int(result["missed"])
    value = result["p99_ms"]
    return [
        {"name": f"event to {STREAMS} SSE streams, p99 ms", "value": value, "goal": "<= 250",
         "limit": P99_LIMIT_MS, "errors": errors, "higher_is_better": False,
         "met": value <= P99_LIMIT_MS and not errors}
    ]  # fmt: skip
