"""The default answers bake a service that passes its own lint, types, migrations and tests."""

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import Baker
from tests.helpers import (
    TEMPLATE_ROOT,
    leftover_template_syntax,
    passed_count,
    run,
    scratch_database,
    tool,
    venv_tool,
)

MIN_BAKED_TESTS = 60
# The quick-start test's slice of the baked suite: API tests against the database.
QUICK_START_TESTS = "-q -p no:cacheprovider tests/api/test_users.py"
MIN_QUICK_START_TESTS = 10
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
    "app/http/error_handlers.py",
    "app/http/middleware.py",
    "app/observability/logging.py",
    "app/api/rate_limit.py",
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


def test_default_bake_commits_a_lock_that_matches_its_pyproject(default_project: Path) -> None:
    lock = default_project / "uv.lock"
    assert lock.is_file()
    assert "uv.lock" not in (default_project / ".gitignore").read_text().splitlines()
    # Offline: checking needs nothing but the two files.
    run([tool("uv"), "lock", "--check", "--offline"], cwd=default_project)
    assert 'name = "tpl-' in lock.read_text()  # the bake's own pyproject.toml, not another


def test_default_description_is_said_once(default_project: Path) -> None:
    for name in ("README.md", "AGENTS.md"):
        text = (default_project / name).read_text()
        assert text.count("A layered async FastAPI service") == 1, name


def test_make_help_prints_values_not_variable_names(default_project: Path) -> None:
    template_help = run(["make", "help", "OUT=out"], cwd=TEMPLATE_ROOT).stdout
    assert "into out/" in template_help
    baked_help = run(["make", "help", "PORT=8001"], cwd=default_project).stdout
    assert "http://127.0.0.1:8001" in baked_help
    assert "$(" not in template_help + baked_help


def test_default_bake_passes_ruff_check(default_project: Path, venv: Path) -> None:
    run([venv_tool(venv, "ruff"), "check", "."], cwd=default_project)


def test_default_bake_passes_ruff_format_check(default_project: Path, venv: Path) -> None:
    run([venv_tool(venv, "ruff"), "format", "--check", "."], cwd=default_project)


def test_longest_name_and_slug_bake_formatted(bake: Baker, venv: Path) -> None:
    # Lines holding the name or the slug must not make `ruff format --check` depend on their length.
    name = "An Extremely Long Project Name For The Billing And Invoicing Service Of Acme"
    project = bake(project_name=name, project_slug="s" * 46)
    run([venv_tool(venv, "ruff"), "format", "--check", "."], cwd=project)
    run([venv_tool(venv, "ruff"), "check", "."], cwd=project)


def test_default_bake_passes_mypy_strict(default_project: Path, venv: Path) -> None:
    run([venv_tool(venv, "mypy"), "app"], cwd=default_project)


def test_default_bake_migrates_without_drift(default_project: Path, venv: Path) -> None:
    alembic = venv_tool(venv, "alembic")
    with scratch_database("drift") as url:
        env = {"DATABASE_URL": url}
        run([venv_tool(venv, "python"), "-m", "app.cli", "create-db"], cwd=default_project, env=env)
        run([alembic, "upgrade", "head"], cwd=default_project, env=env)
        check = run([alembic, "check"], cwd=default_project, env=env)
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_migrations_page_names_every_migration(default_project: Path) -> None:
    page = default_project / ".claude/skills/fastapi/reference/models-and-migrations.md"
    for migration in sorted((default_project / "alembic/versions").glob("*.py")):
        assert f"`alembic/versions/{migration.name}`" in page.read_text(), migration.name


# A model change that autogenerate must turn into the next numbered migration.
ITEM_DESCRIPTION = "    description: Mapped[str | None] = mapped_column(Text, default=None)\n"
ITEM_NOTES = "    notes: Mapped[str | None] = mapped_column(Text, default=None)\n"


def test_make_revision_writes_the_next_numbered_migration(bake: Baker, venv: Path) -> None:
    project = bake(project_name="Tpl Revision")
    last_number = max(path.name[:4] for path in (project / "alembic/versions").glob("*.py"))
    next_number = f"{int(last_number) + 1:04d}"
    model = project / "app/models/items.py"
    assert ITEM_DESCRIPTION in model.read_text()
    model.write_text(model.read_text().replace(ITEM_DESCRIPTION, ITEM_DESCRIPTION + ITEM_NOTES))
    # The shared venv stands in for the project's .venv; -o keeps make from building one.
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={venv}/bin"]
    alembic = venv_tool(venv, "alembic")
    with scratch_database("revision") as url:
        env = {"DATABASE_URL": url}
        run([*make, "migrate"], cwd=project, env=env)
        run([*make, "revision", "m=add item notes"], cwd=project, env=env)
        run([alembic, "upgrade", "head"], cwd=project, env=env)
        check = run([alembic, "check"], cwd=project, env=env)
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    created = project / f"alembic/versions/{next_number}_add_item_notes.py"
    assert sorted(path.name for path in created.parent.glob("*.py"))[-1] == created.name
    text = created.read_text()
    assert f'revision: str = "{next_number}"' in text
    assert f'down_revision: str | None = "{last_number}"' in text
    assert "notes" in text


def test_default_bake_passes_its_own_tests(default_project: Path, venv: Path) -> None:
    result = run([venv_tool(venv, "pytest"), "-q", "-p", "no:cacheprovider"], cwd=default_project)
    assert passed_count(result.stdout) >= MIN_BAKED_TESTS, result.stdout[-2000:]


# Port 9 (discard) on loopback: nothing listens, the connection is refused at once. The second
# form is what hosting providers hand out: normalised to asyncpg before it is used.
@pytest.mark.parametrize(
    "unreachable",
    [
        "postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",
        "postgres://postgres@127.0.0.1:9/nowhere?sslmode=disable",
    ],
    ids=["asyncpg-url", "provider-url"],
)
def test_default_bake_tests_stop_in_one_line_when_the_database_is_down(
    default_project: Path, venv: Path, unreachable: str
) -> None:
    result = run(
        [venv_tool(venv, "pytest"), "-p", "no:cacheprovider"],
        cwd=default_project,
        env={"TEST_DATABASE_URL": unreachable},
        check=False,
    )
    output = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode != 0
    assert output == [
        "ERROR: nothing accepts connections at 127.0.0.1:9 (TEST_DATABASE_URL): start PostgreSQL "
        "there, or set TEST_DATABASE_URL to a server that runs"
    ], output[:20]


def test_default_bake_superuser_command_is_idempotent(default_project: Path, venv: Path) -> None:
    python = venv_tool(venv, "python")
    with scratch_database("admin") as url:
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
    """Follows the baked README: `make test` and `make lint` create .venv themselves.

    On the hardest first run: no uv on PATH and no uv.lock (a bake without uv or network), so
    make brings its pinned uv with pip, writes the lock, then syncs from it. What is new here is
    that first run, so `make test` runs one folder of the suite; the whole suite runs on the
    default bake above (test_default_bake_passes_its_own_tests).
    """
    project = bake(project_name="Tpl Readme")  # type: ignore[operator]
    (project / "uv.lock").unlink()
    env = {"PYTHON": sys.executable} if not shutil.which("python3.11") else {}
    tools = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != tools)
    assert shutil.which("uv", path=env["PATH"]) is None, "this test needs a PATH without uv"
    result = run(["make", "test", f"ARGS={QUICK_START_TESTS}"], cwd=project, env=env, timeout=1200)
    assert "uv is not on PATH: installing uv==0.13.8 into .uv/ with pip" in result.stdout
    assert "No uv.lock yet: resolving one now" in result.stdout
    assert (project / ".venv" / "bin" / "python").exists()
    assert passed_count(result.stdout) >= MIN_QUICK_START_TESTS
    run(["make", "lint"], cwd=project, env=env)
    run([str(project / ".uv" / "bin" / "uv"), "lock", "--check", "--offline"], cwd=project)
