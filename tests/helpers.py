"""Baking, running and inspecting projects, shared by the template tests."""

import asyncio
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = TEMPLATE_ROOT / ".cache"
# Leftover Jinja in a baked file is always a bug.
TEMPLATE_SYNTAX = re.compile(r"\{\{|\{%|%\}|\{#|cookiecutter\.")
BINARY_SUFFIXES = {".png", ".jpg", ".ico", ".pyc", ".db"}
SKIPPED_DIRS = {
    ".venv",
    ".uv",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    ".git",
    ".import_linter_cache",
}


def project_files(project: Path) -> Iterator[Path]:
    for path in sorted(project.rglob("*")):
        if path.is_file() and not SKIPPED_DIRS & set(path.relative_to(project).parts):
            yield path


def leftover_template_syntax(project: Path) -> list[str]:
    """`path:line: text` for every baked line that still holds template syntax."""
    found = []
    for path in project_files(project):
        if path.suffix in BINARY_SUFFIXES:
            continue
        if path.name == "script.py.mako":  # Alembic's own template, not ours
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if TEMPLATE_SYNTAX.search(line):
                found.append(f"{path.relative_to(project)}:{number}: {line.strip()}")
    return found


def run(
    args: list[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Runs a command; on failure the assertion message carries its whole output."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(args)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-8000:]}\n--- stderr ---\n{result.stderr[-8000:]}"
        )
    return result


# Commits made by the tests carry their own identity: CI machines often have none configured.
GIT = ["git", "-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"]


def commit_all(repo: Path, message: str) -> str:
    """Stages everything in `repo`, commits it and returns the new commit's hash."""
    run(["git", "add", "--all"], cwd=repo)
    run([*GIT, "commit", "--quiet", "--message", message], cwd=repo)
    return run(["git", "rev-parse", "HEAD"], cwd=repo).stdout.strip()


def target_python(project: Path) -> str:
    """The X.Y the project targets, from its `requires-python = ">=X.Y"`."""
    data: dict[str, Any] = tomllib.loads((project / "pyproject.toml").read_text())
    return str(data["project"]["requires-python"]).removeprefix(">=")


def find_interpreter(version: str) -> Path:
    """A working `pythonX.Y`: on PATH, or installed by pyenv but not on its global list."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    on_path = shutil.which(f"python{version}")
    candidates = [Path(on_path)] if on_path else []
    candidates += sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        probe = subprocess.run([str(candidate), "--version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return candidate
    raise LookupError(f"no working python{version} on PATH or under {pyenv_root}/versions")


UV = str(Path(sys.executable).parent / "uv")


def interpreters_on_path() -> str:
    """A directory holding a working `pythonX.Y` for each version a bake may target.

    uv (the hooks' `uv lock`, `uv export`) takes the first `pythonX.Y` on PATH and stops there if
    it fails, as a pyenv shim does for a version missing from pyenv's global list.
    """
    answers = json.loads((TEMPLATE_ROOT / "cookiecutter.json").read_text())
    links = CACHE_DIR / "pythons"
    links.mkdir(parents=True, exist_ok=True)
    for version in answers["python_version"]:
        link = links / f"python{version}"
        try:
            target = find_interpreter(version)
        except LookupError:
            continue
        if link.resolve() != target.resolve():
            # Parallel workers may get here together: each renames its own link into place.
            own = links / f".python{version}.{os.getpid()}"
            own.unlink(missing_ok=True)
            own.symlink_to(target)
            own.replace(link)
    return str(links)


# The bakes' hooks run `uv lock` with the uv on PATH: the one pinned beside these tests.
os.environ["PATH"] = os.pathsep.join(
    [str(Path(sys.executable).parent), interpreters_on_path(), os.environ["PATH"]]
)


def locked_packages(project: Path, interpreter: str) -> str:
    """What `uv sync` installs from the bake's uv.lock, the project itself left out.

    `--locked` fails when uv.lock is not the resolution of pyproject.toml, so every variant that
    gets a venv is checked too. The interpreter is named: without one matching requires-python on
    PATH, uv would try to download one.
    """
    export = [UV, "export", "--locked", "--no-emit-project", "--no-hashes", "--no-header"]
    env = {"UV_PYTHON_DOWNLOADS": "never"}
    return run([*export, "--quiet", "--python", interpreter], cwd=project, env=env).stdout


def shared_venv(project: Path) -> Path:
    """A virtualenv synced from the project's uv.lock, shared by every bake that locks the same.

    Keyed by the locked package set and the interpreter, so optional drivers (asyncpg,
    aiosqlite, redis) are never installed into a variant that does not lock them: a missing pin
    fails its tests. Every venv links its files from uv's one cache, so a new one takes seconds.
    """
    version = target_python(project)
    interpreter = str(find_interpreter(version))
    key_text = f"python{version}\n{locked_packages(project, interpreter)}"
    venv = CACHE_DIR / f"baked-venv-{hashlib.sha256(key_text.encode()).hexdigest()[:12]}"
    CACHE_DIR.mkdir(exist_ok=True)
    # Parallel workers may want the same venv at once: one builds it, the others wait.
    with (CACHE_DIR / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            sync = [UV, "sync", "--locked", "--no-install-project", "--quiet"]
            env = {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
            run([*sync, "--python", interpreter], cwd=project, env=env)
            (venv / ".complete").touch()
    return venv


def tool(name: str) -> str:
    """A tool installed next to the interpreter running the tests (pyproject.toml, group dev)."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} missing: run `make install` (uv.lock pins it)"
    return str(path)


def venv_tool(venv: Path, tool: str) -> str:
    return str(venv / "bin" / tool)


def run_make(
    project: Path,
    venv: Path,
    target: str,
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """The baked `make <target>`, with the shared venv standing in for the project's own .venv."""
    args = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={venv}/bin", target]
    return run(args, cwd=project, env=env, check=check)


def copy_project(project: Path, destination: Path) -> Path:
    """A copy of a bake to change without disturbing the tests that share the original."""
    ignored = shutil.ignore_patterns(*SKIPPED_DIRS)
    return Path(shutil.copytree(project, destination / project.name, ignore=ignored))


def passed_count(pytest_output: str) -> int:
    match = re.search(r"(\d+) passed", pytest_output)
    return int(match.group(1)) if match else 0


POSTGRES_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
MAINTENANCE_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# One id per template test run, shared with the xdist workers through the environment (they
# start after this module is imported). Every database the run creates starts with the prefix,
# so concurrent runs on the shared server never touch each other's, and the run drops its own.
RUN_ID = os.environ.setdefault("TPL_RUN_ID", uuid.uuid4().hex[:6])
RUN_DATABASE_PREFIX = f"tpl_{RUN_ID}_"


def run_scoped_name(project_name: str) -> str:
    """`Tpl Default` -> `Tpl 1a2b3c Default`: the slug, hence every database, gets the run prefix."""
    return project_name.replace("Tpl ", f"Tpl {RUN_ID} ", 1)


async def _drop_databases(prefix: str) -> list[str]:
    conn = await asyncpg.connect(MAINTENANCE_DSN)
    try:
        rows = await conn.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY 1", prefix
        )
        names = [str(row["datname"]) for row in rows]
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
    return names


def drop_databases(prefix: str) -> list[str]:
    """Drops every database whose name starts with `prefix`; returns their names."""
    return asyncio.run(_drop_databases(prefix))


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A database URL with a name no other run uses (worktrees and CI share one server).

    The caller creates it (usually through the baked `app.cli create-db`); it is dropped after.
    """
    name = f"{RUN_DATABASE_PREFIX}{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        yield f"{POSTGRES_SERVER}/{name}"
    finally:
        drop_databases(name)


START_TIMEOUT_SECONDS = 30.0


def wait_until_live(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"uvicorn exited with {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/health/live", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    pytest.fail(
        f"uvicorn did not answer within {START_TIMEOUT_SECONDS}s:\n{log.read_text()[-4000:]}"
    )
