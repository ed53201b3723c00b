"""The default answers bake a service that passes its own lint, types, migrations and tests."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.helpers import (
    leftover_template_syntax,
    passed_count,
    run,
    scratch_database,
    venv_tool,
)

MIN_BAKED_TESTS = 60
EXPECTED_PATHS = [
    "app/main.py",
    "app/api/deps.py",
    "app/api/health.py",
    "app/api/v1/router.py",
    "app/api/v1/endpoints/auth.py",
    "app/api/v1/endpoints/users.py",
    "app/api/v1/endpoints/items.py",
    "app/core/config.py",
    "app/core/security.py",
    "app/core/exceptions.py",
    "app/core/error_handlers.py",
    "app/core/middleware.py",
    "app/core/logging.py",
    "app/core/rate_limit.py",
    "app/db/session.py",
    "app/repositories/base.py",
    "app/services/items.py",
    "alembic/env.py",
    "tests/conftest.py",
    "Makefile",
    "README.md",
    ".env.example",
    ".env",
    "pyproject.toml",
]


@pytest.mark.parametrize("relative", EXPECTED_PATHS)
def test_default_bake_has_the_layered_layout(default_project: Path, relative: str) -> None:
    assert (default_project / relative).is_file()


def test_default_bake_leaves_no_template_syntax(default_project: Path) -> None:
    assert leftover_template_syntax(default_project) == []


def test_default_bake_writes_a_random_secret_into_env(default_project: Path) -> None:
    env = (default_project / ".env").read_text()
    secret = next(line for line in env.splitlines() if line.startswith("SECRET_KEY="))
    assert secret != "SECRET_KEY=change-me"
    assert len(secret.split("=", 1)[1]) >= 32
    assert ".env" in (default_project / ".gitignore").read_text().splitlines()


def test_default_bake_passes_ruff_check(default_project: Path, venv: Path) -> None:
    run([venv_tool(venv, "ruff"), "check", "."], cwd=default_project)


def test_default_bake_passes_ruff_format_check(default_project: Path, venv: Path) -> None:
    run([venv_tool(venv, "ruff"), "format", "--check", "."], cwd=default_project)


def test_default_bake_passes_mypy_strict(default_project: Path, venv: Path) -> None:
    run([venv_tool(venv, "mypy"), "app"], cwd=default_project)


def test_default_bake_migrates_without_drift(default_project: Path, venv: Path) -> None:
    alembic = venv_tool(venv, "alembic")
    with scratch_database(venv, "tpl_drift") as url:
        env = {"DATABASE_URL": url}
        run([venv_tool(venv, "python"), "-m", "app.cli", "create-db"], cwd=default_project, env=env)
        run([alembic, "upgrade", "head"], cwd=default_project, env=env)
        check = run([alembic, "check"], cwd=default_project, env=env)
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_default_bake_passes_its_own_tests(default_project: Path, venv: Path) -> None:
    result = run([venv_tool(venv, "pytest"), "-q", "-p", "no:cacheprovider"], cwd=default_project)
    assert passed_count(result.stdout) >= MIN_BAKED_TESTS, result.stdout[-2000:]


def test_default_bake_tests_stop_in_one_line_when_the_database_is_down(
    default_project: Path, venv: Path
) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere"
    result = run(
        [venv_tool(venv, "pytest"), "-p", "no:cacheprovider"],
        cwd=default_project,
        env={"TEST_DATABASE_URL": unreachable},
        check=False,
    )
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert len(output) == 1, output[:20]
    assert unreachable in output[0]
    assert "start PostgreSQL, or set TEST_DATABASE_URL" in output[0]


def test_default_bake_superuser_command_is_idempotent(default_project: Path, venv: Path) -> None:
    python = venv_tool(venv, "python")
    with scratch_database(venv, "tpl_admin") as url:
        env = {
            "DATABASE_URL": url,
            "FIRST_SUPERUSER_EMAIL": "root@example.com",
            "FIRST_SUPERUSER_PASSWORD": "a long admin password",
        }
        run([python, "-m", "app.cli", "create-db"], cwd=default_project, env=env)
        run([venv_tool(venv, "alembic"), "upgrade", "head"], cwd=default_project, env=env)
        first = run([python, "-m", "app.cli", "superuser"], cwd=default_project, env=env)
        second = run([python, "-m", "app.cli", "superuser"], cwd=default_project, env=env)
    assert "Created: admin root@example.com" in first.stdout
    assert "Already present: admin root@example.com" in second.stdout


@pytest.mark.slow
def test_readme_quick_start_works_from_a_clean_venv(bake: object, tmp_path: Path) -> None:
    """Follows the baked README literally: `make test` and `make lint` create .venv themselves."""
    project = bake(project_name="Tpl Readme")  # type: ignore[operator]
    env = {"PYTHON": sys.executable} if not shutil.which("python3.11") else {}
    env["PATH"] = os.environ["PATH"]
    result = run(["make", "test"], cwd=project, env=env, timeout=1200)
    assert (project / ".venv" / "bin" / "python").exists()
    assert passed_count(result.stdout) >= MIN_BAKED_TESTS
    run(["make", "lint"], cwd=project, env=env)
