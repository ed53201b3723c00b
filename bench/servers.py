"""Start and stop uvicorn servers on loopback, one worker each, configured like production.

The template's one "serve on a free port" helper: `make bench` and the browser test both use it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(
    name: str,
    app: str,
    *,
    cwd: Path,
    env: dict[str, str],
    ready_path: str,
    log: Path,
    python: str = sys.executable,
    factory: bool = False,
) -> Server:
    """uvicorn with uvloop + httptools, access log off; returns once `ready_path` answers.

    `python` is the interpreter whose uvicorn runs the app (a baked project's own venv, say);
    with `factory`, `app` names a function that builds the app.
    """
    port = free_port()
    command = [
        python, "-m", "uvicorn", *(["--factory"] if factory else []), app,
        "--host", HOST, "--port", str(port), "--workers", "1",
        "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(name=name, port=port, process=process)
    _wait_ready(server, ready_path, log)
    return server


def _wait_ready(server: Server, path: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited early:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(server.base_url + path, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer (401 without a token) means the server is up
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer {path} in {START_TIMEOUT_SECONDS}s")


@dataclass
class RedisServer:
    """A throwaway redis-server the bench can pause (SIGSTOP: no reset, no answer) and resume."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.resume()
        self.process.terminate()
        self.process.wait(timeout=10)


def start_redis(log: Path) -> RedisServer:
    port = free_port()
    command = ["redis-server", "--bind", HOST, "--port", str(port)]
    command += ["--save", "", "--appendonly", "no"]  # nothing on disk
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((HOST, port)) == 0:
                return RedisServer(port=port, process=process)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not listen on {port} in {START_TIMEOUT_SECONDS}s")
