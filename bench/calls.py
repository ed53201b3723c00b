"""Python calls a request: the Python work a route does, counted, not timed.

Requests per second move with whatever else the machine runs; the number of Python and C
function calls an ASGI app makes to answer one request does not. The count tracks the req/s
ratios closely (PERFORMANCE.md in the bake), so it shows a hot-path change on a busy machine too.
Each app runs in its own interpreter (`python -m bench.calls APP PATH...`, the working directory
holding the app), called directly over ASGI with no server and no network in between.
"""

import asyncio
import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

WARM_UP = 30
COUNTED = 200


def count(
    app_spec: str, paths: list[str], *, cwd: Path, env: dict[str, str], token: str
) -> dict[str, float]:
    """Calls a request for each path, counted in a fresh interpreter running `app_spec`."""
    command = [sys.executable, "-m", "bench.calls", app_spec, *paths]
    bench_root = str(Path(__file__).resolve().parent.parent)
    environment = {**os.environ, **env, "BENCH_TOKEN": token, "PYTHONPATH": f"{bench_root}:{cwd}"}
    done = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"counting calls of {app_spec} failed:\n{done.stderr[-2000:]}")
    counts: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return counts


def _load(app_spec: str) -> Any:
    """`module:attr` (an ASGI app) or `module:attr()` (a factory)."""
    module_name, _, attr = app_spec.partition(":")
    factory = attr.endswith("()")
    target = getattr(importlib.import_module(module_name), attr.removesuffix("()"))
    return target() if factory else target


async def _get(app: Any, path: str, token: str) -> None:
    route, _, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": route, "raw_path": route.encode(), "root_path": "",
        "query_string": query.encode(), "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    if statuses != [200]:
        raise RuntimeError(f"GET {path} answered {statuses}, not 200: nothing to count")


async def _count_all(app: Any, paths: list[str], token: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        for path in paths:
            for _ in range(WARM_UP):
                await _get(app, path, token)
            calls = 0

            def tally(frame: FrameType, event: str, arg: object) -> None:
                nonlocal calls
                if event in ("call", "c_call"):
                    calls += 1

            profile: Callable[[FrameType, str, object], None] = tally
            sys.setprofile(profile)
            try:
                for _ in range(COUNTED):
                    await _get(app, path, token)
            finally:
                sys.setprofile(None)
            counts[path] = calls / COUNTED
    return counts


if __name__ == "__main__":
    app_spec, *request_paths = sys.argv[1:]
    found = asyncio.run(_count_all(_load(app_spec), request_paths, os.environ["BENCH_TOKEN"]))
    print(json.dumps(found))
