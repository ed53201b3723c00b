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
# and every option: the owned one is cached and soft-deleted, the shared one soft-deleted.
# Irregular plurals on purpose: "series" is its own singular (the generated code must keep the
# one and the many apart), "statuses" was once cut to "Statuse".
RESOURCES = (
    (
        "series",
        "name:str:unique description:text? due_on:date? budget:decimal? done:bool",
        "yes",
        {"cached": "yes", "soft_delete": "yes"},
    ),
    (
        "statuses",
        "title:str code:int:unique notes:text? weight:decimal active:bool starts_on:date? "
        "opens_at:datetime:unique rank:int?",
        "no",
        {"soft_delete": "yes"},
    ),
)
OPTIONS = ("cached", "soft_delete")
# Where `make resource` writes a resource's tests, and the baked tests that read every route,
# model and agent file (the parts of the app `make resource` edits).
LAYERS = ("api", "services", "repositories")
WHOLE_APP_TESTS = (
    "tests/api/test_openapi.py",
    "tests/test_migrations.py",
    "tests/test_agents_check.py",
)
# Cut short: each refusal needs only one line of make output to be judged.
REFUSALS = {
    "keyword": ({"name": "classes"}, "name 'classes' cannot be used: 'class' is a Python keyword"),
    "builtin": ({"name": "lists"}, "name 'lists' cannot be used: 'list' is a Python builtin"),
    "existing": ({"name": "users"}, "resource 'users' already exists"),
    "example resource": ({"name": "items"}, "resource 'items' already exists"),
    "reserved module": (
        {"name": "healths"},
        "name 'healths' is reserved: 'health' is the probes (/health/live, /health/ready",
    ),
    "reserved routes": ({"name": "auth"}, "name 'auth' is reserved: 'auth' is the sign-in routes"),
    "generated variable": (
        {"name": "sessions"},
        "name 'sessions' is reserved: the generated code has its own variable 'session'",
    ),
    "not snake": ({"name": "BigProjects"}, "name 'BigProjects' is not plural snake_case"),
    "not an identifier": ({"name": "2fa_codes"}, "name '2fa_codes' is not plural snake_case"),
    "singular": (
        {"name": "project"},
        "name 'project' looks singular: name the resource by its plural (projects)",
    ),
    "singular ending in -s": (
        {"name": "bus"},
        "name 'bus' looks singular: name the resource by its plural (buses)",
    ),
    "singular not snake": ({"singular": "Project"}, "singular 'Project' is not snake_case"),
    "unknown type": (
        {"fields": "title:money"},
        "field 'title' has unknown type 'money'; supported: str, text, int, bool, decimal, date, datetime",
    ),
    "keyword field": (
        {"fields": "class:str"},
        "field name 'class' cannot be used: it is a Python keyword",
    ),
    "reserved field": (
        {"fields": "owner_id:str"},
        "field name 'owner_id' is reserved: a column every resource already has",
    ),
    "sqlalchemy field": (
        {"fields": "metadata:str"},
        "field name 'metadata' is reserved: SQLAlchemy's own attribute on every model",
    ),
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


def suite_for(database: str) -> str:
    """The baked tests to run after `make resource`: all of them on PostgreSQL. On SQLite, the
    resources' own tests and those that read the whole app (its schema, migrations and agent
    files): the rest of that suite runs code the scaffold does not touch, and runs in the matrix.
    """
    if database != "sqlite":
        return ""
    generated = [f"tests/{layer}/test_{name}.py" for name, *_ in RESOURCES for layer in LAYERS]
    return " ".join([*generated, *WHOLE_APP_TESTS])


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
    assert "class Series(" in (project / "app/models/series.py").read_text()
    assert "class Status(" in (project / "app/models/statuses.py").read_text()
    written = written_by_scaffold(project)
    for name, *_ in RESOURCES:
        assert {
            f"app/models/{name}.py",
            f"app/schemas/{name}.py",
            f"app/repositories/{name}.py",
            f"app/services/{name}.py",
            f"app/api/v1/endpoints/{name}.py",
            *(f"tests/{layer}/test_{name}.py" for layer in LAYERS),
        } <= written
    first, second = (f"{number:04d}" for number in (last_migration + 1, last_migration + 2))
    assert {
        f"alembic/versions/{first}_series.py",
        f"alembic/versions/{second}_statuses.py",
    } <= written
    assert {
        "app/main.py",
        "app/models/__init__.py",
        "app/api/deps.py",
        "app/api/v1/router.py",
    } <= written
    run(["make", "lint"], cwd=project)
    tests = run(["make", "test", f"ARGS=-q -p no:cacheprovider {suite_for(database)}"], cwd=project)
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


# plural -> (class, singular, with its article): the singulars inflect finds, which the
# generator's old rule of endings got wrong (Movy, Statuse, Buse, Sery, New, Analyse).
ENGLISH_NAMES = {
    "movies": ("Movie", "movie", "a movie"),
    "statuses": ("Status", "status", "a status"),
    "buses": ("Bus", "bus", "a bus"),
    "series": ("Series", "series", "a series"),
    "news": ("News", "news", "a news"),
    "analyses": ("Analysis", "analysis", "an analysis"),
    "invoices": ("Invoice", "invoice", "an invoice"),
}


@pytest.mark.parametrize(("name", "expected"), list(ENGLISH_NAMES.items()), ids=list(ENGLISH_NAMES))
def test_scaffold_names_a_resource_in_english_and_says_so_first(
    refusing_project: Path, name: str, expected: tuple[str, str, str]
) -> None:
    model, singular, with_article = expected
    try:
        output = make_resource(refusing_project, name, "number:str:unique", "yes")
        lines = output.splitlines()
        assert lines[0] == (
            f'names: class {model}, one {singular} ("{with_article}", route parameter '
            f"{{{singular}_id}}), many {name} (table, modules, /api/v1/{name})"
        )
        assert "add singular=<word>" in lines[1]
        assert lines[2].startswith("wrote ")  # the names come before anything is written
        assert f"class {model}(" in (refusing_project / f"app/models/{name}.py").read_text()
        endpoints = (refusing_project / f"app/api/v1/endpoints/{name}.py").read_text()
        assert f"{{{singular}_id}}" in endpoints
        assert f'"""Create {with_article} owned by the current user."""' in endpoints
        service = (refusing_project / f"app/services/{name}.py").read_text()
        assert f'"{with_article.capitalize()} with this number already exists"' in service
    finally:
        run(["git", "checkout", "--quiet", "."], cwd=refusing_project)
        run(["git", "clean", "--quiet", "-fd"], cwd=refusing_project)


def test_a_singular_given_is_used_and_not_second_guessed(refusing_project: Path) -> None:
    try:
        output = make_resource(refusing_project, "people", "name:str", "yes", singular="person")
        assert output.startswith('names: class Person, one person ("a person"')
        assert "add singular=<word>" not in output
    finally:
        run(["git", "checkout", "--quiet", "."], cwd=refusing_project)
        run(["git", "clean", "--quiet", "-fd"], cwd=refusing_project)


def test_scaffold_is_development_tooling_only(default_project: Path) -> None:
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())
    runtime = pyproject["project"]["dependencies"]
    assert not any(requirement.startswith("jinja2") for requirement in runtime)
    dev = pyproject["dependency-groups"]["dev"]
    assert {"jinja2==3.1.6", "inflect==7.6.0"} <= set(dev)
    assert not any(requirement.startswith("inflect") for requirement in runtime)
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["app"]
    assert (default_project / "tools" / "scaffold" / "templates" / "model.py.jinja").is_file()
