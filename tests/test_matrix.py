"""Every answer bakes a service that passes its own lint, types and tests, as baked.

Every answer value is in a row whose code runs; rows change several independent answers at once
(tests/variants.py says which pairs interact), so few suites cover them all. A variant that
changes only packaging answers (agent files, Docker, CI, manifests) is checked to bake its code
twin's code, whose types and tests run once. One row's tests run under a developer's tuned
settings (tests/hostile.py), which they must ignore. Each variant's tests share one xdist group,
so one worker bakes it once and runs its checks in order.
"""

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Baker
from tests.helpers import (
    BINARY_SUFFIXES,
    copy_project,
    leftover_template_syntax,
    passed_count,
    project_files,
    run,
    scratch_database,
    shared_venv,
    target_python,
    venv_tool,
)
from tests.hostile import make_hostile
from tests.variants import HOSTILE, MATRIX, variant_named, variants_in

# Lower bounds: the suites only grow. Items bring ~30 tests, Redis ~5.
MIN_TESTS_WITH_ITEMS = 140
MIN_TESTS_WITHOUT_ITEMS = 110

# Anything that names the example resource; `dict.items()` does not.
ITEMS_TRACE = re.compile(
    r"\bitems\.router\b|\bItems?\b|/items\b|\bitem_id\b|\bitems\.py\b|_items\b|\bget_item|ItemService"
)
# What a bake's code is made of (tests/variants.py, PACKAGING_ANSWERS).
CODE_DIRS = ("app", "tests", "alembic", "tools")
CODE_FILES = ("pyproject.toml", "uv.lock", "Makefile", "alembic.ini", "conftest.py", ".env.example")
ENV_KEY = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def in_groups(check: str, *, twins: bool | None = None) -> list[Any]:
    """One parameter per variant, in that variant's xdist group (`twins`: only those with a
    code twin, or only those without; None: all)."""
    return [
        pytest.param(
            variant.id, id=f"{variant.id}-{check}", marks=pytest.mark.xdist_group(name=variant.id)
        )
        for variant in variants_in(MATRIX)
        if twins is None or (variant.code_twin is not None) == twins
    ]


def variants_where(check: str, answer: str, *, absent: bool = False) -> list[Any]:
    """The variants that change `answer` from its default (or, with `absent`, that keep it)."""
    return [
        param
        for param in in_groups(check)
        if (answer in variant_named(str(param.values[0])).answers) != absent
    ]


def project_of(variant: str, bake: Baker) -> Path:
    return bake(**variant_named(variant).bake_answers())


@pytest.mark.parametrize("variant", in_groups("bakes"))
def test_variant_bakes_without_template_syntax(variant: str, bake: Baker) -> None:
    assert leftover_template_syntax(project_of(variant, bake)) == []


@pytest.mark.parametrize("variant", in_groups("lint"))
def test_variant_passes_ruff_the_layer_contracts_and_agents_check(
    variant: str, bake: Baker
) -> None:
    project = project_of(variant, bake)
    venv = shared_venv(project)
    run([venv_tool(venv, "ruff"), "check", "."], cwd=project)
    run([venv_tool(venv, "ruff"), "format", "--check", "."], cwd=project)
    run([venv_tool(venv, "lint-imports")], cwd=project)
    # `make lint`'s last step: every name in this bake's agent files exists (code twins included).
    run([venv_tool(venv, "python"), "-m", "tools.agents_check"], cwd=project)


@pytest.mark.parametrize("variant", in_groups("mypy", twins=False))
def test_variant_passes_mypy_strict(variant: str, bake: Baker) -> None:
    project = project_of(variant, bake)
    run([venv_tool(shared_venv(project), "mypy"), "app"], cwd=project)


@pytest.mark.parametrize("variant", in_groups("tests", twins=False))
def test_variant_passes_its_own_tests(variant: str, bake: Baker, tmp_path: Path) -> None:
    row = variant_named(variant)
    project = project_of(variant, bake)
    venv = shared_venv(project)
    command = [venv_tool(venv, "pytest"), "-q", "-p", "no:cacheprovider"]
    if HOSTILE in row.suites:
        # A copy: the other checks of this row see the bake as baked.
        project = copy_project(project, tmp_path)
        with scratch_database("hostile") as url:
            env = {**make_hostile(project, row), "TEST_DATABASE_URL": url}
            result = run(command, cwd=project, env=env)
    else:
        result = run(command, cwd=project)
    passed = passed_count(result.stdout)
    with_items = row.answer("example_resource", True)
    assert passed >= (MIN_TESTS_WITH_ITEMS if with_items else MIN_TESTS_WITHOUT_ITEMS), (
        result.stdout
    )
    print(f"{variant}: {passed} baked tests passed")  # noqa: T201  (shown with -rP)


def code_of(project: Path) -> dict[str, bytes]:
    """Every file that the service, its migrations, tools and tests are made of, or install from."""
    files = [path for top in CODE_DIRS for path in (project / top).rglob("*") if path.is_file()]
    files += [project / name for name in CODE_FILES if (project / name).exists()]
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in files
        if "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("variant", in_groups("same-code", twins=True))
def test_packaging_variant_bakes_the_code_of_its_twin(variant: str, bake: Baker) -> None:
    project = project_of(variant, bake)
    twin = variant_named(variant).code_twin
    assert twin is not None
    # The twin's answers under this variant's name: any difference left is code, not naming.
    twin_project = bake(**{**twin.answers, "project_name": variant_named(variant).project_name})
    ours, theirs = code_of(project), code_of(twin_project)
    assert sorted(ours.keys() ^ theirs.keys()) == []
    assert [name for name in ours if ours[name] != theirs[name]] == []


@pytest.mark.parametrize("variant", in_groups("env"))
def test_variant_documents_every_setting_in_env_example(variant: str, bake: Baker) -> None:
    project = project_of(variant, bake)
    python = venv_tool(shared_venv(project), "python")
    listing = "from app.core.config import Settings; print(*Settings.model_fields, sep='\\n')"
    fields = {name.upper() for name in run([python, "-c", listing], cwd=project).stdout.split()}
    documented = set(ENV_KEY.findall((project / ".env.example").read_text()))
    assert fields - documented == set(), "settings missing from .env.example"
    assert documented - fields == set(), ".env.example documents settings that do not exist"


@pytest.mark.parametrize("variant", variants_where("interpreter", "python_version"))
def test_python_variant_runs_on_its_interpreter(variant: str, bake: Baker) -> None:
    project = project_of(variant, bake)
    wanted = variant_named(variant).answers["python_version"]
    assert target_python(project) == wanted
    assert f'python_version = "{wanted}"' in (project / "pyproject.toml").read_text()
    python = venv_tool(shared_venv(project), "python")
    version = run([python, "-c", "import sys; print(sys.version)"], cwd=project).stdout
    assert version.startswith(f"{wanted}.")


@pytest.mark.parametrize("variant", variants_where("no_items", "example_resource"))
def test_variant_without_items_leaves_no_trace_of_them(variant: str, bake: Baker) -> None:
    project = project_of(variant, bake)
    traces = [
        f"{path.relative_to(project)}:{number}: {line.strip()}"
        for path in project_files(project)
        if path.suffix not in BINARY_SUFFIXES
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ITEMS_TRACE.search(line) or ITEMS_TRACE.search(str(path.relative_to(project)))
    ]
    assert traces == []


@pytest.mark.parametrize("variant", variants_where("no_server", "database"))
def test_sqlite_variant_depends_on_no_database_server(variant: str, bake: Baker) -> None:
    project = project_of(variant, bake)
    pyproject = (project / "pyproject.toml").read_text()
    assert '"aiosqlite==' in pyproject
    assert "asyncpg" not in pyproject
    # Nothing that runs (app, migrations, test harness, settings) names a PostgreSQL URL or driver;
    # comments and docs may still compare the two.
    runtime = [*project.glob("app/**/*.py"), *project.glob("alembic/**/*.py")]
    runtime += [project / "tests" / "conftest.py", project / ".env.example"]
    mentions = [
        str(path.relative_to(project))
        for path in runtime
        if re.search(r"postgresql\+|asyncpg|DROP SCHEMA", path.read_text())
    ]
    assert mentions == []


@pytest.mark.parametrize("variant", variants_where("cli_migrations", "database"))
def test_sqlite_variant_migrates_from_the_cli_without_drift(
    variant: str, bake: Baker, tmp_path: Path
) -> None:
    project = project_of(variant, bake)
    venv = shared_venv(project)
    # A folder that does not exist yet: create-db must make it.
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/data/cli.db"}
    alembic = venv_tool(venv, "alembic")
    created = run([venv_tool(venv, "python"), "-m", "app.cli", "create-db"], cwd=project, env=env)
    assert "Database created" in created.stdout
    run([alembic, "upgrade", "head"], cwd=project, env=env)
    check = run([alembic, "check"], cwd=project, env=env)
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    run([alembic, "downgrade", "base"], cwd=project, env=env)
    run([alembic, "upgrade", "head"], cwd=project, env=env)


@pytest.mark.parametrize("variant", variants_where("redis_pins", "rate_limit_storage"))
def test_redis_variant_pins_the_limits_redis_extra(variant: str, bake: Baker) -> None:
    pyproject = (project_of(variant, bake) / "pyproject.toml").read_text()
    assert '"limits[redis]==' in pyproject
    assert '"redis==' in pyproject
    assert '"slowapi[redis]' not in pyproject


def uses_no_redis(param: Any) -> bool:
    """Neither the rate-limit counters nor a job queue in Redis (taskiq brings it in)."""
    answers = variant_named(str(param.values[0])).answers
    return "rate_limit_storage" not in answers and "background_jobs" not in answers


@pytest.mark.parametrize("variant", [p for p in in_groups("no_redis") if uses_no_redis(p)])
def test_memory_variant_without_jobs_mentions_no_redis(variant: str, bake: Baker) -> None:
    project = project_of(variant, bake)
    mentions = [
        str(path.relative_to(project))
        for path in project_files(project)
        if path.suffix not in BINARY_SUFFIXES and "redis" in path.read_text().lower()
    ]
    assert mentions == []
