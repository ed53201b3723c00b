"""The worker's liveness and readiness probes against a real worker process and the real Redis."""

import asyncio
import contextlib
import signal
import tempfile
import time
from pathlib import Path

import pytest
from taskiq_redis import RedisStreamBroker

from app.jobs import heartbeat
from app.jobs.broker import beat
from tests.jobs.conftest import WAIT_SECONDS, Worker

# Short, so the test is quick; long enough that a machine under load still beats on time.
BEAT_SECONDS = 0.5


def passes(worker: Worker, check: str) -> bool:
    return worker.probe(check).returncode == 0


def wait_until_probes(worker: Worker, *, pass_: bool) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if all(passes(worker, check) is pass_ for check in ("live", "ready")):
            return
        time.sleep(0.1)
    pytest.fail(f"probes never {'passed' if pass_ else 'failed'}; worker log:\n{worker.output()}")


def test_the_probes_pass_while_the_worker_runs_and_fail_when_it_stalls_or_stops(
    worker: Worker,
) -> None:
    assert "no heartbeat" in worker.probe("live").stderr  # not started yet
    worker.start(heartbeat=BEAT_SECONDS)
    wait_until_probes(worker, pass_=True)

    worker.signal(signal.SIGSTOP)  # a stalled worker: its event loop no longer turns
    try:
        time.sleep(heartbeat.MISSED_BEATS * BEAT_SECONDS + 0.5)
        for check in ("live", "ready"):
            stalled = worker.probe(check)
            assert stalled.returncode == 1
            assert "overdue" in stalled.stderr
    finally:
        worker.signal(signal.SIGCONT)
    wait_until_probes(worker, pass_=True)

    worker.signal(signal.SIGTERM)
    assert worker.process is not None
    worker.process.wait(timeout=WAIT_SECONDS)
    assert "no heartbeat" in worker.probe("live").stderr


async def test_a_worker_that_cannot_reach_redis_is_alive_but_not_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    unreachable = RedisStreamBroker("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    beating = asyncio.create_task(beat(unreachable, interval_seconds=5))
    for _ in range(WAIT_SECONDS * 10):
        if heartbeat.heartbeat_file().exists():
            break
        await asyncio.sleep(0.1)
    beating.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await beating
    assert heartbeat.problem("live") is None
    assert str(heartbeat.problem("ready")).startswith("Redis does not answer")
