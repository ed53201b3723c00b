"""Removes what the answers turned off, writes `.env` with a fresh secret and `uv.lock`, prints
next steps.

What each answer removes is declared once, in `REMOVALS`; a template test checks that every path
named there exists in the template, so the table cannot silently rot. The bake's file hashes go
to `MANIFEST` so that a later re-bake can tell an untouched bake from an edited one.
"""

import hashlib
import json
import os
import secrets
import shutil
import subprocess
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
# Attachments hang on Items: they go with the example resource or with file_storage=none.
ATTACHMENT_PATHS = (
    "app/models/attachments.py",
    "app/schemas/attachments.py",
    "app/repositories/attachments.py",
    "app/services/attachments.py",
    "app/api/v1/endpoints/attachments.py",
    "alembic/versions/0005_attachments.py",
    "tests/api/test_attachments.py",
    "tests/services/test_attachments.py",
)
# The storage layer stays without Items (for a project's own upload routes); only none removes it.
FILE_STORAGE_PATHS = (
    "app/storage",
    "app/core/files.py",
    "app/http/uploads.py",
    "tests/storage",
    "tests/core/test_files.py",
    "tests/stored.py",
)
LOCAL_STORAGE_PATHS = ("app/storage/local.py",)
S3_STORAGE_PATHS = ("app/storage/s3.py", "tests/s3_server.py")
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
    "app/jobs/heartbeat.py",
    "tests/jobs",
    "conftest.py",  # pins the broker's environment for the tests
)
DOCKER_PATHS = ("Dockerfile", ".dockerignore", "docker-compose.yml")
# Only the CI files: with agent_tools=all, `.github/` also holds Copilot's instructions.
GITHUB_CI_PATHS = (".github/workflows", ".github/dependabot.yml")
TRACING_PATHS = ("app/observability/tracing.py", "tests/observability")
KUBERNETES_PATHS = ("deploy",)
KUBERNETES_REDIS_PATHS = ("deploy/kubernetes/base/redis.yaml",)
KUBERNETES_WORKER_PATHS = ("deploy/kubernetes/base/worker.yaml",)
KUBERNETES_UPLOADS_PATHS = ("deploy/kubernetes/base/uploads-pvc.yaml",)
# The team's extra members; a single backend agent owns everything, so it needs no contract.
TEAM_ONLY_AGENT_PATHS = (
    ".claude/CONTRACT.md",
    ".claude/agents/database.md",
    ".claude/agents/testing.md",
    ".claude/agent-memory/database",
    ".claude/agent-memory/testing",
)
# Files for coding agents other than Claude Code (agent_tools=all); they point at AGENTS.md.
OTHER_AGENT_TOOL_PATHS = (
    ".github/copilot-instructions.md",
    ".github/instructions",
    ".cursor",
    ".gemini",
)
ALL_AGENT_PATHS = (".claude", "AGENTS.md", "CLAUDE.md", *OTHER_AGENT_TOOL_PATHS)
# Folders that removals above can leave empty (ci=none with agent_tools=claude empties .github).
EMPTIED_FOLDERS = (".github",)
# Realtime events: the hub, its routes and tests; each bake keeps the hub that fits its Redis.
REALTIME_PATHS = (
    "app/events",
    "app/api/v1/endpoints/events.py",
    "app/http/streams.py",
    "tests/events",
)
MEMORY_HUB_PATHS = ("app/events/memory_hub.py",)
REDIS_HUB_PATHS = ("app/events/redis_hub.py", "tests/events/test_two_instances.py")
# Read by hooks/pre_gen_project.py before a re-bake (same name there).
MANIFEST = ".bake-manifest.json"

# (answer, value that removes, paths removed) — the one place pruning is decided.
REMOVALS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("example_resource", False, ITEMS_PATHS),
    ("example_resource", False, ATTACHMENT_PATHS),
    ("file_storage", "none", ATTACHMENT_PATHS),
    ("file_storage", "none", FILE_STORAGE_PATHS),
    ("file_storage", "local", S3_STORAGE_PATHS),
    ("file_storage", "s3", LOCAL_STORAGE_PATHS),
    ("rate_limit_storage", "memory", REDIS_PATHS),
    ("background_jobs", "none", TASKIQ_PATHS),
    ("background_jobs", "taskiq", IN_PROCESS_JOB_PATHS),
    ("database", "sqlite", SERVER_DATABASE_PATHS),
    ("docker", False, DOCKER_PATHS),
    ("ci", "none", GITHUB_CI_PATHS),
    ("tracing", "none", TRACING_PATHS),
    ("kubernetes", False, KUBERNETES_PATHS),
    # Redis comes with either answer that uses it (cookiecutter.json, __redis).
    ("__redis", "no", KUBERNETES_REDIS_PATHS),
    ("background_jobs", "none", KUBERNETES_WORKER_PATHS),
    ("file_storage", "none", KUBERNETES_UPLOADS_PATHS),
    ("file_storage", "s3", KUBERNETES_UPLOADS_PATHS),
    ("agent_files", "backend", TEAM_ONLY_AGENT_PATHS),
    ("agent_files", "none", ALL_AGENT_PATHS),
    ("agent_tools", "claude", OTHER_AGENT_TOOL_PATHS),
    ("realtime", "no", REALTIME_PATHS),
    ("__redis", "no", REDIS_HUB_PATHS),
    ("__redis", "yes", MEMORY_HUB_PATHS),
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


# Resolving needs the package index; a bake must not hang on a network that drops packets.
LOCK_TIMEOUT_SECONDS = 120


def write_lock(project: Path, uv: str | None) -> str:
    """`uv lock` for the baked pyproject.toml; returns the one line the next steps print.

    The index first, for current releases of the packages pyproject.toml leaves unpinned; uv's
    cache alone when the index cannot be reached. A bake that writes no lock still works: the
    first `make install` resolves one. A re-bake keeps what the existing lock pins where it can.
    """
    if uv is None:
        return "uv is not on PATH: `make install` brings a pinned one and writes uv.lock."
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for offline in ([], ["--offline"]):
        try:
            result = subprocess.run(
                [uv, "lock", "--quiet", *offline],
                cwd=project,
                env=env,
                capture_output=True,
                timeout=LOCK_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            continue
        if result.returncode == 0:
            return "Wrote uv.lock (every package, pinned with hashes): commit it with the project."
    return "uv.lock not written (package index unreachable): `make install` writes it once online."


def location(project: Path, start: str | None) -> str:
    """The project as seen from where cookiecutter was started: relative below it, else absolute."""
    if start and project.is_relative_to(Path(start).resolve()):
        return os.path.relpath(project, Path(start).resolve())
    return str(project)


def next_steps(
    answers: Mapping[str, Any], where: str, env_kept: bool = False, lock: str = ""
) -> str:
    kept = "\nKept the existing .env (its SECRET_KEY is unchanged).\n" if env_kept else ""
    return (
        f"\nBaked {answers['project_name']} in {where}\n{kept}{lock}\n"
        f"  cd {where}\n"
        "  make run     # install, migrate, serve on http://127.0.0.1:8000/docs\n"
        "  make test    # the whole test suite\n"
    )


def main(project: Path) -> int:
    answers = json.loads(ANSWERS_JSON)
    for relative in paths_to_remove(answers):
        remove(project, relative)
    for folder in EMPTIED_FOLDERS:
        if (project / folder).is_dir() and not any((project / folder).iterdir()):
            (project / folder).rmdir()
    env_written = write_env(project)
    write_manifest(project)
    # After the manifest: the lock is resolved, not baked, and `make upgrade` may change it.
    lock = write_lock(project, shutil.which("uv"))
    # PWD is the shell's directory when cookiecutter started; the hook itself runs in the project.
    where = location(project, os.environ.get("PWD"))
    print(next_steps(answers, where, env_kept=not env_written, lock=f"{lock}\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path.cwd()))
