"""The project under test: bake it, install its dependencies, give it a fresh migrated database."""

import asyncio
import hashlib
import json
import os
import shlex
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import asyncpg

SERVER_DSN = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
SUITE_TIMEOUT_SECONDS = 600


@dataclass(frozen=True, slots=True)
class Baked:
    path: Path
    slug: str
    seconds: float

    @property
    def bench_database(self) -> str:
        return f"{self.slug}_bench"


def bake(template: Path, out: Path, extra_context: str) -> Baked:
    """`cookiecutter --no-input`, timed; BENCH_CONTEXT-style `key=value` pairs override defaults."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        subprocess.run(["rm", "-rf", str(old)], check=True)
    cookiecutter = Path(sys.executable).with_name("cookiecutter")
    command = [str(cookiecutter), "--no-input", "-o", str(out), str(template)]
    started = time.perf_counter()
    subprocess.run([*command, *shlex.split(extra_context)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    (path,) = out.iterdir()
    return Baked(path=path, slug=path.name, seconds=seconds)


def uses_redis(baked: Baked) -> bool:
    """Whether the bake keeps its rate-limit counters in Redis (its recorded answers say)."""
    answers = json.loads((baked.path / ".template-answers.json").read_text())
    return bool(answers.get("rate_limit_storage") == "redis")


def install_dependencies(project: Path, stamp_dir: Path) -> None:
    """Installs the baked project's pinned runtime + dev dependencies into this venv, once."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    requirements = [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]
    digest = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16]
    stamp = stamp_dir / f"project-deps-{digest}"
    if stamp.exists():
        return
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", *requirements], check=True)
    stamp.touch()


async def _recreate(database: str) -> None:
    conn = await asyncpg.connect(f"{SERVER_DSN}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


def fresh_database(baked: Baked) -> str:
    """Drops and recreates the bench database, migrates it; returns its SQLAlchemy URL."""
    asyncio.run(_recreate(baked.bench_database))
    url = f"{SERVER_DSN.replace('postgresql://', 'postgresql+asyncpg://')}/{baked.bench_database}"
    alembic = Path(sys.executable).with_name("alembic")
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(alembic), "upgrade", "head"], cwd=baked.path, env=env, check=True)
    return url


def run_suite(baked: Baked) -> tuple[float, str]:
    """Runs the baked project's own tests; returns wall seconds and pytest's closing line."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=baked.path,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT_SECONDS,
    )
    seconds = time.perf_counter() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return seconds, (lines[-1] if lines else f"exit {done.returncode}")


async def _verify(database: str, email: str) -> None:
    conn = await asyncpg.connect(f"{SERVER_DSN}/{database}")
    try:
        await conn.execute("UPDATE users SET is_verified = true WHERE email = $1", email)
    finally:
        await conn.close()


def mark_verified(baked: Baked, email: str) -> None:
    """The bench has no mailbox to follow the verification link: verify the seeded user directly."""
    asyncio.run(_verify(baked.bench_database, email))
