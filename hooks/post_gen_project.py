"""Removes what the answers turned off, writes `.env` with a fresh secret, prints next steps.

What each answer removes is declared once, in `REMOVALS`; a template test checks that every path
named there exists in the template, so the table cannot silently rot. The bake's file hashes go
to `MANIFEST` so that a later re-bake can tell an untouched bake from an edited one.
"""

import hashlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import Mapping
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

# Raw string: JSON escapes (\" and \\) in the answers must reach json.loads unchanged.
ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""

ITEMS_PATHS = (
    "app/models/items.py",
    "app/schemas/items.py",
    "app/repositories/items.py",
    "app/services/items.py",
    "app/api/v1/endpoints/items.py",
    "alembic/versions/0002_items.py",
    "tests/api/test_items.py",
    "tests/services/test_items.py",
    "tests/repositories/test_items.py",
)
REDIS_PATHS = (
    "tests/api/test_rate_limit_redis.py",
    "tests/reliability/test_stalled_redis.py",
    # In process memory, each instance caches on its own: two instances are not kept in step.
    "tests/cache/test_two_instances.py",
)
# Outage, two-instance and concurrency tests need a database server (a proxy, many connections);
# the first-come-first-served queue in front of the pool matters only for a pooled server.
SERVER_DATABASE_PATHS = ("tests/reliability", "app/db/connection_queue.py")
# Email jobs run in the API process, or are queued in Redis for a taskiq worker.
IN_PROCESS_JOB_PATHS = ("app/jobs/in_process.py",)
TASKIQ_PATHS = (
    "app/jobs/broker.py",
    "app/jobs/tasks.py",
    "app/jobs/queue.py",
    "tests/jobs",
    "conftest.py",  # pins the broker's environment for the tests
)
DOCKER_PATHS = ("Dockerfile", ".dockerignore", "docker-compose.yml")
GITHUB_CI_PATHS = (".github",)
TRACING_PATHS = ("app/observability/tracing.py", "tests/observability")
KUBERNETES_PATHS = ("deploy",)
KUBERNETES_REDIS_PATHS = ("deploy/kubernetes/base/redis.yaml",)
KUBERNETES_WORKER_PATHS = ("deploy/kubernetes/base/worker.yaml",)
# The team's extra members; a single backend agent owns everything, so it needs no contract.
TEAM_ONLY_AGENT_PATHS = (
    ".claude/CONTRACT.md",
    ".claude/agents/database.md",
    ".claude/agents/testing.md",
    ".claude/agent-memory/database",
    ".claude/agent-memory/testing",
)
ALL_AGENT_PATHS = (".claude", "AGENTS.md", "CLAUDE.md")
# Read by hooks/pre_gen_project.py before a re-bake (same name there).
MANIFEST = ".bake-manifest.json"

# (answer, value that removes, paths removed) — the one place pruning is decided.
REMOVALS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("example_resource", False, ITEMS_PATHS),
    ("rate_limit_storage", "memory", REDIS_PATHS),
    ("background_jobs", "none", TASKIQ_PATHS),
    ("background_jobs", "taskiq", IN_PROCESS_JOB_PATHS),
    ("database", "sqlite", SERVER_DATABASE_PATHS),
    ("docker", False, DOCKER_PATHS),
    ("ci", "none", GITHUB_CI_PATHS),
    ("tracing", "none", TRACING_PATHS),
    ("kubernetes", False, KUBERNETES_PATHS),
    ("rate_limit_storage", "memory", KUBERNETES_REDIS_PATHS),
    ("background_jobs", "none", KUBERNETES_WORKER_PATHS),
    ("agent_files", "backend", TEAM_ONLY_AGENT_PATHS),
    ("agent_files", "none", ALL_AGENT_PATHS),
)


def paths_to_remove(answers: Mapping[str, Any]) -> list[str]:
    return [path for answer, value, paths in REMOVALS if answers[answer] == value for path in paths]


def remove(project: Path, relative: str) -> None:
    target = project / relative
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()


def write_env(project: Path) -> bool:
    """`.env` starts as `.env.example` with a secret nobody else has; it is never committed.

    A re-bake keeps the existing `.env` (tokens signed with its SECRET_KEY stay valid); returns
    whether a new one was written.
    """
    if (project / ".env").exists():
        return False
    example = (project / ".env.example").read_text()
    secret = secrets.token_urlsafe(48)
    lines = [
        f"SECRET_KEY={secret}" if line.startswith("SECRET_KEY=") else line
        for line in example.splitlines()
    ]
    (project / ".env").write_text("\n".join(lines) + "\n")
    return True


def write_manifest(project: Path) -> None:
    """Every baked file's hash. What git ignores (`.env`, `.venv`, caches) is not part of a bake,
    which matters when a re-bake writes over a folder that has been used."""
    lines = (project / ".gitignore").read_text().splitlines()
    ignored = [".git", MANIFEST] + [line.rstrip("/") for line in lines if line and line[0] != "#"]
    hashes = {}
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        parts_ignored = (fnmatch(part, pattern) for part in relative.parts for pattern in ignored)
        if path.is_file() and not any(parts_ignored):
            hashes[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    (project / MANIFEST).write_text(json.dumps(hashes, indent=1) + "\n")


def location(project: Path, start: str | None) -> str:
    """The project as seen from where cookiecutter was started: relative below it, else absolute."""
    if start and project.is_relative_to(Path(start).resolve()):
        return os.path.relpath(project, Path(start).resolve())
    return str(project)


def next_steps(answers: Mapping[str, Any], where: str, env_kept: bool = False) -> str:
    kept = "\nKept the existing .env (its SECRET_KEY is unchanged).\n" if env_kept else ""
    return (
        f"\nBaked {answers['project_name']} in {where}\n{kept}\n"
        f"  cd {where}\n"
        "  make run     # install, migrate, serve on http://127.0.0.1:8000/docs\n"
        "  make test    # the whole test suite\n"
    )


def main(project: Path) -> int:
    answers = json.loads(ANSWERS_JSON)
    for relative in paths_to_remove(answers):
        remove(project, relative)
    env_written = write_env(project)
    write_manifest(project)
    # PWD is the shell's directory when cookiecutter started; the hook itself runs in the project.
    print(next_steps(answers, location(project, os.environ.get("PWD")), env_kept=not env_written))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
