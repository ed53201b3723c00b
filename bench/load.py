"""Load generators: wrk when installed, a raw-asyncio fallback otherwise, and a paced probe.

Every loop here is bounded twice: by wall time and by a request count.
"""

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

MAX_REQUESTS_PER_RUN = 2_000_000
WRK_GRACE_SECONDS = 10
# A probe request unanswered this long counts as a timeout (a stalled server is not waited for).
PROBE_TIMEOUT_SECONDS = 2.0
# What a client application waits for an answer before it gives up.
CLIENT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Target:
    """One HTTP request to repeat: method, URL, headers and body."""

    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers and socket errors, timeouts included
    tool: str
    timeouts: int = 0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_load(target: Target, *, connections: int, seconds: float) -> Result:
    if wrk_available():
        return _run_wrk(target, connections=connections, seconds=seconds)
    return asyncio.run(_closed_loop(target, connections=connections, seconds=seconds))


# --- wrk -----------------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)


def _lua_script(target: Target) -> str:
    lines = [f'wrk.method = "{target.method}"']
    if target.body:
        lines.append(f"wrk.body = [[{target.body.decode()}]]")
    lines += [f'wrk.headers["{k}"] = [[{v}]]' for k, v in target.headers.items()]
    return "\n".join(lines) + "\n"


def _run_wrk(target: Target, *, connections: int, seconds: float) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua_script(target))
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        script.name,
        target.url,
    ]
    try:
        out = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + WRK_GRACE_SECONDS
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    return _parse_wrk(out)


def _parse_wrk(out: str) -> Result:
    percentiles = {int(p): float(v) * _UNIT_MS[u] for p, v, u in _PERCENTILE.findall(out)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*?(\d+).*?(\d+).*?(\d+).*?(\d+)", out)
    if rps is None or total is None or 50 not in percentiles or 99 not in percentiles:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    errors = int(non_2xx.group(1)) if non_2xx else 0
    timeouts = 0
    if socket_errors:  # connect, read, write, timeout
        errors += sum(int(n) for n in socket_errors.groups())
        timeouts = int(socket_errors.group(4))
    return Result(
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p99_ms=percentiles[99],
        requests=int(total.group(1)),
        errors=errors,
        tool="wrk",
        timeouts=timeouts,
    )


# --- pure-Python fallback ------------------------------------------------------------------------


def _request_bytes(target: Target) -> tuple[str, int, bytes]:
    parts = urlsplit(target.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Host": parts.netloc, "Content-Length": str(len(target.body)), **target.headers}
    head = f"{target.method} {path} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return parts.hostname or "127.0.0.1", parts.port or 80, head.encode() + target.body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, float]:
    """Reads one keep-alive response (Content-Length framed): its status and its Retry-After."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if match:
        await reader.readexactly(int(match.group(1)))
    retry_after = re.search(rb"(?i)\r\nretry-after:\s*(\d+)", head)
    return status, float(retry_after.group(1)) if retry_after else 0.0


async def _read_response(reader: asyncio.StreamReader) -> int:
    status, _ = await _read_answer(reader)
    return status


class _Recorder:
    def __init__(self, deadline: float, budget: int) -> None:
        self.deadline = deadline
        self.budget = budget
        self.latencies: list[float] = []
        self.errors = 0
        self.timeouts = 0

    def more(self) -> bool:
        return time.perf_counter() < self.deadline and len(self.latencies) < self.budget


async def _connection_loop(target: Target, recorder: _Recorder) -> None:
    host, port, request = _request_bytes(target)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while recorder.more():
            started = time.perf_counter()
            writer.write(request)
            status = await _read_response(reader)
            recorder.latencies.append((time.perf_counter() - started) * 1000)
            recorder.errors += status >= 400
    finally:
        writer.close()


def _summary(recorder: _Recorder, elapsed: float, tool: str) -> Result:
    ordered = sorted(recorder.latencies) or [0.0]
    cuts = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
    return Result(
        rps=len(recorder.latencies) / elapsed,
        p50_ms=cuts[49],
        p99_ms=cuts[98],
        requests=len(recorder.latencies),
        errors=recorder.errors + recorder.timeouts,
        tool=tool,
        timeouts=recorder.timeouts,
    )


async def _closed_loop(target: Target, *, connections: int, seconds: float) -> Result:
    started = time.perf_counter()
    recorder = _Recorder(started + seconds, MAX_REQUESTS_PER_RUN)
    async with asyncio.timeout(seconds + WRK_GRACE_SECONDS):
        await asyncio.gather(*(_connection_loop(target, recorder) for _ in range(connections)))
    return _summary(recorder, time.perf_counter() - started, "python")


async def _paced_loop(target: Target, recorder: _Recorder, interval: float) -> None:
    host, port, request = _request_bytes(target)
    reader, writer = await asyncio.open_connection(host, port)
    next_send = time.perf_counter()
    try:
        while recorder.more():
            # Latency is measured from the scheduled send time, so a stalled server is not hidden.
            await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
            try:
                async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
                    writer.write(request)
                    status = await _read_response(reader)
            except TimeoutError:
                # The connection may still carry the late answer: count it and start afresh.
                recorder.timeouts += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                next_send = time.perf_counter()
                continue
            recorder.latencies.append((time.perf_counter() - next_send) * 1000)
            recorder.errors += status >= 400
            next_send += interval
    finally:
        writer.close()


async def _client_loop(target: Target, recorder: _Recorder) -> None:
    """A client as the service asks clients to behave: after a 503 or 429 it waits Retry-After."""
    host, port, request = _request_bytes(target)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while recorder.more():
            started = time.perf_counter()
            try:
                async with asyncio.timeout(CLIENT_TIMEOUT_SECONDS):
                    writer.write(request)
                    status, retry_after = await _read_answer(reader)
            except TimeoutError:
                recorder.timeouts += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed a keep-alive connection that idled through Retry-After.
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            recorder.latencies.append((time.perf_counter() - started) * 1000)
            recorder.errors += status >= 400
            await asyncio.sleep(max(0.0, min(retry_after, recorder.deadline - time.perf_counter())))
    finally:
        writer.close()


def run_clients(target: Target, *, connections: int, seconds: float) -> Result:
    """`connections` clients in a closed loop, each honouring Retry-After (wrk does not)."""

    async def load() -> Result:
        started = time.perf_counter()
        recorder = _Recorder(started + seconds, MAX_REQUESTS_PER_RUN)
        async with asyncio.timeout(seconds + CLIENT_TIMEOUT_SECONDS + WRK_GRACE_SECONDS):
            await asyncio.gather(*(_client_loop(target, recorder) for _ in range(connections)))
        return _summary(recorder, time.perf_counter() - started, "python, honours Retry-After")

    return asyncio.run(load())


def run_probe(target: Target, *, rate: float, seconds: float) -> Result:
    """A light fixed-rate probe: measures latency without loading the server itself."""

    async def probe() -> Result:
        started = time.perf_counter()
        recorder = _Recorder(started + seconds, int(rate * seconds) + 1)
        async with asyncio.timeout(seconds + WRK_GRACE_SECONDS):
            await _paced_loop(target, recorder, 1 / rate)
        return _summary(recorder, time.perf_counter() - started, "probe")

    return asyncio.run(probe())
