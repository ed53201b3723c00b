"""`make agents-check` (tools/agents_check.py): this project's agent files are true, and the
check names what an agent file gets wrong."""

from pathlib import Path

from tools.agents_check import (
    PROJECT,
    RESOURCES_END,
    RESOURCES_START,
    cited_paths,
    cited_routes,
    problems,
)


def test_this_projects_agent_files_are_true() -> None:
    assert problems(PROJECT) == []


def test_paths_and_routes_are_found_and_placeholders_skipped() -> None:
    text = (
        'Edit `app/main.py`, `make test ARGS="tests/api/test_x.py -k y"`, `app/models/<r>.py`, '
        "`/api/v1`, `10/minute`, `.env`."
    )
    assert cited_paths(text) == {"app/main.py", "tests/api/test_x.py", ".env"}
    assert cited_routes(text) == {"/api/v1"}


def small_project(root: Path, agents_md: str) -> Path:
    """A project with one endpoint module, a Makefile and an AGENTS.md."""
    (root / "app/api/v1/endpoints").mkdir(parents=True)
    (root / "app/api/v1/endpoints/notes.py").write_text("")
    (root / "Makefile").write_text("test:\n\tpytest\n")
    (root / "pyproject.toml").write_text("")
    (root / "AGENTS.md").write_text(agents_md)
    return root


def resources(*names: str) -> str:
    lines = "".join(f"- `{name}`: a resource.\n" for name in names)
    return f"{RESOURCES_START}\n{lines}{RESOURCES_END}\n"


def test_a_missing_path_a_make_target_and_an_unlisted_resource_are_named(tmp_path: Path) -> None:
    project = small_project(
        tmp_path, f"Run `make test` and `make deploy`; see `app/gone.py`.\n{resources('tasks')}"
    )
    assert problems(project) == [
        "AGENTS.md: `app/gone.py` does not exist",
        "AGENTS.md: `make deploy` is no Makefile target",
        "AGENTS.md: resource `notes` (app/api/v1/endpoints/notes.py) is not in the resources list",
        "AGENTS.md: resources list names `tasks`, which has no app/api/v1/endpoints/tasks.py",
    ]


def test_a_file_owned_twice_or_not_at_all_is_named(tmp_path: Path) -> None:
    project = small_project(tmp_path, resources("notes"))
    (project / "tests").mkdir()
    (project / "tests/test_notes.py").write_text("")
    agents = project / ".claude" / "agents"
    agents.mkdir(parents=True)
    (project / ".claude/CONTRACT.md").write_text(
        "## backend\n\n- OWNS: `app/**`\n\n## database\n\n- OWNS: `app/api/**`, `alembic/**`\n"
    )
    (agents / "backend.md").write_text("- OWNS: `app/**`\n")
    (agents / "database.md").write_text("- OWNS: `app/**`\n")
    assert problems(project) == [
        ".claude/CONTRACT.md: `alembic/**` does not exist",
        ".claude/agents/database.md: its ownership lines differ from the contract's",
        "app/api/v1/endpoints/notes.py: owned by backend, database (exactly one expected)",
        "tests/test_notes.py: owned by no agent (exactly one expected)",
    ]
