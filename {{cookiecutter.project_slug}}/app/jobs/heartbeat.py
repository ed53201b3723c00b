"""The worker's heartbeat file, and the probe that reads it: a worker serves no HTTP to ask.

While `taskiq worker` runs, app/jobs/broker.py rewrites the file every JOBS_HEARTBEAT_SECONDS with
its state ("ready" once Redis answered a ping) and the time by which the next beat is due. The
Kubernetes probes run `python -m app.jobs.heartbeat live|ready`: live while beats arrive on time
(the event loop turns), ready while they do and Redis answers. A stopped, stalled or killed worker
writes no more beats, so both fail. The probe imports nothing heavy: it runs every few seconds.
"""

import os
import sys
import tempfile
from pathlib import Path

from app.core.clock import utcnow

READY = "ready"
# Beats missed before the worker counts as stalled: one late beat is a busy loop, not a dead one.
MISSED_BEATS = 3


def heartbeat_file() -> Path:
    # The temporary folder: /tmp in the pod (the one writable path), TMPDIR wherever it is set.
    return Path(tempfile.gettempdir()) / "worker-heartbeat"


def write_beat(state: str, interval_seconds: float) -> None:
    due = utcnow().timestamp() + MISSED_BEATS * interval_seconds
    path = heartbeat_file()
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    partial.write_text(f"{state}\n{due}\n")
    partial.replace(path)  # atomic: a probe never reads half a beat


def remove_beat() -> None:
    heartbeat_file().unlink(missing_ok=True)


def problem(check: str) -> str | None:
    """Why the worker fails `check` (live or ready), or None when it passes."""
    try:
        state, due = heartbeat_file().read_text().split("\n", 2)[:2]
    except (OSError, ValueError):
        return f"no heartbeat at {heartbeat_file()}: the worker has not started or has stopped"
    late = utcnow().timestamp() - float(due)
    if late > 0:
        return f"the last heartbeat is {late:.1f}s overdue: the worker is stalled or stopped"
    if check == "ready" and state != READY:
        return state
    return None


def main(argv: list[str]) -> int:
    if argv[1:] not in (["live"], ["ready"]):
        sys.stderr.write("usage: python -m app.jobs.heartbeat live|ready\n")
        return 2
    found = problem(argv[1])
    if found is not None:
        sys.stderr.write(f"{found}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
