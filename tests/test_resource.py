"""`make resource` in a bake: two resources with every field type pass lint, tests and
`alembic check` untouched; every refused input says why in one line and writes nothing."""

import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import Baker
from tests.helpers import (
    commit_all,
    passed_count,
    run,
    scratch_database,
    shared_venv,
    venv_tool,
)

# One owned resource and one shared one; between them, every supported type, optional and unique,
# and every option: projects are cached and soft-deleted, categories soft-deleted.
RESOURCES = (
    (
        "projects",
        "name:str:unique description:text? due_on:date? budget:decimal? done:bool",
        "yes",
        {"cached": "yes", "soft_delete": "yes"},
    ),
    (
        "categories",
        "title:str code:int:unique notes:text? weight:decimal active:bool starts_on:date? "
        "opens_at:datetime:unique rank:int?",
        "no",
        {"soft_delete": "yes"},
    ),
)
OPTIONS = ("cached", "soft_delete")
# Cut short: each refusal needs only one line of make output to be judged.
REFUSALS = {
    "keyword": ({"name": "classes"}, "name 'classes' is reserved: 'class' is a Python keyword"),
    "existing": ({"name": "users"}, "resource 'users' already exists"),
    "example resource": ({"name": "items"}, "resource 'items' already exists"),
    "reserved module": ({"name": "healths"}, "name 'healths' is reserved"),
    "not snake": ({"name": "BigProjects"}, "name 'BigProjects' is not plural snake_case"),
    "not an identifier": ({"name": "2fa_codes"}, "name '2fa_codes' is not plural snake_case"),
    "singular": ({"name": "project"}, "name 'project' is not a plural"),
    "singular equal to the name": (
        {"name": "sheep", "singular": "sheep"},
        "singular 'sheep' is not a snake_case word different from 'sheep'",
    ),
    "unknown type": (
        {"fields": "title:money"},
        "field 'title' has unknown type 'money'; supported: str, text, int, bool, decimal, date, datetime",
    ),
    "keyword field": ({"fields": "class:str"}, "field name 'class' is not a lowercase"),
    "reserved field": ({"fields": "owner_id:str"}, "field name 'owner_id' is reserved"),
    "bad field syntax": ({"fields": "title"}, "field 'title' is not name:type"),
    "unique bool": ({"fields": "done:bool:unique"}, "a bool column cannot be unique"),
    "duplicate field": ({"fields": "title:str title:text"}, "fields repeat"),
    "no fields": ({"fields": ""}, "fields are missing"),
    "owned": ({"owned": "maybe"}, "owned must be yes or no, not 'maybe'"),
    "cached": ({"cached": "always"}, "cached must be yes or no, not 'always'"),
    "soft delete": ({"soft_delete": "1"}, "soft_delete must be yes or no, not '1'"),
}


def make_ready(project: Path) -> Path:
    """The bake as a developer has it: `.venv` installed (the shared one) and a first commit."""
    venv = shared_venv(project)
    (project / ".venv").symlink_to(venv)
    (venv / ".installed").touch()  # newer than pyproject.toml: make does not reinstall
    run(["git", "init", "--quiet"], cwd=project)
    commit_all(project, "Bake")
    return venv


def make_resource(
    project: Path,
    name: str,
    fields: str,
    owned: str,
    singular: str = "",
    *,
    check: bool = True,
    options: Mapping[str, str] | None = None,
) -> str:
    """`make resource`; `options` are the yes/no ones (cached, soft_delete) given as make args."""
    result = run(
        [
            "make",
            "--no-print-directory",
            "resource",
            f"name={name}",
            f"fields={fields}",
            f"owned={owned}",
            f"singular={singular}",
            *(f"{option}={value}" for option, value in (options or {}).items()),
        ],
        cwd=project,
        check=check,
    )
    return result.stdout + result.stderr


def git_status(project: Path) -> str:
    return run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=project).stdout


def written_by_scaffold(project: Path) -> set[str]:
    return {line[3:] for line in git_status(project).splitlines()}


@pytest.mark.parametrize(
    ("database", "project_name"), [("postgresql", "Tpl Scaffold"), ("sqlite", "Tpl Scaffold Lite")]
)
def test_two_scaffolded_resources_pass_lint_tests_and_alembic_check(
    bake: Baker, database: str, project_name: str
) -> None:
    project = bake(project_name=project_name, database=database)
    venv = make_ready(project)
    last_migration = max(int(path.name[:4]) for path in project.glob("alembic/versions/*.py"))
    for name, fields, owned, options in RESOURCES:
        output = make_resource(project, name, fields, owned, options=options)
        assert f"wrote app/api/v1/endpoints/{name}.py" in output
    written = written_by_scaffold(project)
    for name, *_ in RESOURCES:
        assert {
            f"app/models/{name}.py",
            f"app/schemas/{name}.py",
            f"app/repositories/{name}.py",
            f"app/services/{name}.py",
            f"app/api/v1/endpoints/{name}.py",
            f"tests/api/test_{name}.py",
            f"tests/services/test_{name}.py",
            f"tests/repositories/test_{name}.py",
        } <= written
    first, second = (f"{number:04d}" for number in (last_migration + 1, last_migration + 2))
    assert {
        f"alembic/versions/{first}_projects.py",
        f"alembic/versions/{second}_categories.py",
    } <= written
    assert {
        "app/main.py",
        "app/models/__init__.py",
        "app/api/deps.py",
        "app/api/v1/router.py",
    } <= written
    run(["make", "lint"], cwd=project)
    tests = run(["make", "test", "ARGS=-q -p no:cacheprovider"], cwd=project)
    assert passed_count(tests.stdout) > 0
    alembic = venv_tool(venv, "alembic")
    if database == "sqlite":
        run(["make", "migrate"], cwd=project)
        check = run([alembic, "check"], cwd=project)
    else:
        with scratch_database("scaffold_check") as url:
            env = {"DATABASE_URL": url}
            run(["make", "migrate"], cwd=project, env=env)
            check = run([alembic, "check"], cwd=project, env=env)
    assert "No new upgrade operations detected" in check.stdout + check.stderr
    summary = (
        f"{database}: {len(written)} files written or edited; {passed_count(tests.stdout)} passed"
    )
    print(summary, *sorted(written), sep="\n")  # noqa: T201  (shown with -rP)


@pytest.fixture(scope="module")
def refusing_project(bake: Baker) -> Path:
    project = bake(project_name="Tpl Refusals")
    make_ready(project)
    return project


@pytest.mark.parametrize(("answers", "message"), list(REFUSALS.values()), ids=list(REFUSALS))
def test_refused_scaffold_input_says_why_and_writes_nothing(
    refusing_project: Path, answers: dict[str, str], message: str
) -> None:
    request = {"name": "projects", "fields": "title:str", "owned": "yes", "singular": "", **answers}
    options = {option: request.pop(option) for option in OPTIONS if option in request}
    output = make_resource(refusing_project, **request, check=False, options=options)
    refusal = [line for line in output.splitlines() if line.startswith("make resource: ")]
    assert len(refusal) == 1, output
    assert message in refusal[0]
    assert "Traceback" not in output
    assert git_status(refusing_project) == ""


def test_scaffold_is_development_tooling_only(default_project: Path) -> None:
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    runtime = pyproject["project"]["dependencies"]
    assert not any(requirement.startswith("jinja2") for requirement in runtime)
    assert "jinja2==3.1.6" in pyproject["project"]["optional-dependencies"]["dev"]
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["app"]
    assert (default_project / "tools" / "scaffold" / "templates" / "model.py.jinja").is_file()
