"""The baked agent files are valid for each coding agent's format and true of the project they
land in (the bake's own `make agents-check` proves the names; these tests prove it catches)."""

import importlib.util
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Baker
from tests.helpers import (
    TEMPLATE_ROOT,
    copy_project,
    leftover_template_syntax,
    project_files,
    run,
    run_make,
    shared_venv,
)
from tests.variants import AGENTS, DEFAULT_SUITE, MATRIX, Variant, variant_named, variants_in

AGENT_VARIANTS = variants_in(AGENTS)
WITH_AGENTS = [
    variant for variant in AGENT_VARIANTS if variant.answer("agent_files", "team") != "none"
]
# The agent rows whose agents-check no lint runs: matrix rows run it in their lint
# (tests/test_matrix.py), the default bake in `make lint` (tests/test_baked_rules.py).
UNLINTED_WITH_AGENTS = [
    variant for variant in WITH_AGENTS if not variant.suites & {MATRIX, DEFAULT_SUITE}
]
TEAM = ("backend", "database", "testing")
AGENT_FIELDS = {"name", "description", "tools", "model", "color", "memory"}
KNOWN_TOOLS = {"Read", "Write", "Edit", "Bash", "Glob", "Grep", "WebFetch", "WebSearch"} | {
    "TodoWrite",
    "Skill",
    "Agent",
    "NotebookEdit",
}
MODELS = {"sonnet", "opus", "haiku", "inherit"}
COLORS = {"red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan"}
NAME = re.compile(r"^[a-z][a-z0-9-]*$")
# Permission rule syntax from the public settings schema (json.schemastore.org/claude-code-settings.json).
PERMISSION_RULE = re.compile(
    r"^((Agent|Bash|Edit|Glob|Grep|MultiEdit|NotebookEdit|Read|Skill|TodoWrite|WebFetch|WebSearch"
    r"|Write)(\([^)]+\))?|mcp__.*)$"
)
OWNED_ROOTS = ("app/", "alembic/", "tests/")
COMMANDS = ("add-resource", "new-migration")
COMMAND_FIELDS = {"description", "argument-hint", "allowed-tools"}
HOOK_EVENTS = {"PreToolUse", "PostToolUse", "Stop", "SubagentStop", "UserPromptSubmit"}
EDITING_TOOLS = ("Edit", "MultiEdit", "Write")
FENCED_BLOCK = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
OWNERSHIP_LINE = re.compile(r"^- (OWNS|READS|CANNOT TOUCH): .+$", re.MULTILINE)
EXAMPLE = re.compile(r"<example>\n.+?\n</example>", re.DOTALL)
# agent_tools=all: the files other agents read, each pointing at AGENTS.md.
OTHER_TOOL_FILES = {
    ".github/copilot-instructions.md",
    ".gemini/settings.json",
    *(f".github/instructions/{area}.instructions.md" for area in TEAM),
    *(f".cursor/rules/{area}.mdc" for area in TEAM),
}
AGENT_ROOTS = {".claude", "AGENTS.md", "CLAUDE.md", ".cursor", ".gemini"}
# The Agent Skills specification (agentskills.io): name and description limits, allowed keys.
SKILL_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SKILL_FIELDS = {"name", "description", "license", "compatibility", "metadata", "allowed-tools"}
# Cursor project rules (.cursor/rules/*.mdc) and Copilot path instructions (*.instructions.md).
CURSOR_RULE_FIELDS = {"description": str, "globs": str, "alwaysApply": bool}
COPILOT_FIELDS = {"applyTo": str, "description": str, "excludeAgent": str}
# A sentence this long that two agent files both carry is a fact written twice.
FACT_LENGTH = 40
CLAUDE_BIN = TEMPLATE_ROOT / ".cache" / "claude" / "node_modules" / ".bin" / "claude"


def expected_files(agent_files: str, agent_tools: str = "claude") -> set[str]:
    if agent_files == "none":
        return set()
    agents = TEAM if agent_files == "team" else ("backend",)
    files = {"AGENTS.md", "CLAUDE.md", ".claude/settings.json", ".claude/skills/fastapi/SKILL.md"}
    files |= {f".claude/commands/{command}.md" for command in COMMANDS}
    files.add(".claude/hooks/tidy_python.py")
    files |= {
        f".claude/skills/fastapi/reference/{page}.md"
        for page in (
            "endpoints-and-permissions",
            "models-and-migrations",
            "tests",
            "emails-and-jobs",
        )
    }
    for agent in agents:
        files |= {f".claude/agents/{agent}.md", f".claude/agent-memory/{agent}/MEMORY.md"}
    if agent_files == "team":
        files.add(".claude/CONTRACT.md")
    if agent_tools == "all":
        files |= OTHER_TOOL_FILES
    return files


def answers_of(project: Path) -> dict[str, Any]:
    answers: dict[str, Any] = json.loads((project / ".template-answers.json").read_text())
    return answers


def bake_variant(request: pytest.FixtureRequest, bake: Baker) -> tuple[str, bool, Path]:
    """(agent_files, example_resource, project) of the variant in `request.param`."""
    variant: Variant = request.param
    project = bake(**variant.bake_answers())
    return variant.answer("agent_files", "team"), variant.answer("example_resource", True), project


@pytest.fixture(scope="module", params=AGENT_VARIANTS, ids=lambda variant: variant.id)
def variant(request: pytest.FixtureRequest, bake: Baker) -> tuple[str, bool, Path]:
    return bake_variant(request, bake)


@pytest.fixture(scope="module", params=WITH_AGENTS, ids=lambda variant: variant.id)
def agent_project(request: pytest.FixtureRequest, bake: Baker) -> tuple[str, bool, Path]:
    return bake_variant(request, bake)


def agent_docs(project: Path) -> list[Path]:
    """Every instruction file an agent reads, as the bake's own agents-check finds them."""
    docs: list[Path] = agents_check_module(project).agent_files(project)
    return docs


def agents_check_module(project: Path) -> Any:
    """The bake's tools/agents_check.py, loaded from the bake (tools/ is not a package here)."""
    spec = importlib.util.spec_from_file_location(
        f"agents_check_{project.name}", project / "tools" / "agents_check.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def front_matter(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text()
    assert text.startswith("---\n"), path
    header, body = text[4:].split("\n---\n", 1)
    data = yaml.safe_load(header)
    assert isinstance(data, dict), path
    return data, body


def test_agent_files_are_exactly_those_of_the_variant(variant: tuple[str, bool, Path]) -> None:
    agent_files, _, project = variant
    relative = [path.relative_to(project) for path in project_files(project)]
    baked = {
        path.as_posix()
        for path in relative
        if path.parts[0] in AGENT_ROOTS
        or path.as_posix() in OTHER_TOOL_FILES
        or path.parts[:2] == (".github", "instructions")
    }
    assert baked == expected_files(agent_files, answers_of(project)["agent_tools"])


def test_variant_leaves_no_template_syntax(variant: tuple[str, bool, Path]) -> None:
    assert leftover_template_syntax(variant[2]) == []


def test_agents_have_valid_front_matter_and_a_useful_body(
    agent_project: tuple[str, bool, Path],
) -> None:
    _, _, project = agent_project
    for path in sorted((project / ".claude" / "agents").glob("*.md")):
        data, body = front_matter(path)
        assert set(data) == AGENT_FIELDS, path.name
        assert NAME.match(data["name"])
        assert data["name"] == path.stem
        summary, *examples = data["description"].split("\n\n<example>")
        assert 1 <= summary.count(". ") + 1 <= 3, summary
        assert len(summary) <= 400
        assert len(EXAMPLE.findall(data["description"])) == len(examples) >= 2, path.name
        assert set(data["tools"].split(", ")) <= KNOWN_TOOLS
        assert data["model"] in MODELS
        assert data["color"] in COLORS
        assert data["memory"] == "project"
        assert (project / ".claude" / "agent-memory" / data["name"] / "MEMORY.md").is_file()
        assert 1000 <= len(body) <= 4500, (path.name, len(body))


def test_agent_colours_differ(agent_project: tuple[str, bool, Path]) -> None:
    paths = sorted((agent_project[2] / ".claude" / "agents").glob("*.md"))
    colours = [front_matter(path)[0]["color"] for path in paths]
    assert len(set(colours)) == len(colours)


def test_skills_follow_the_agent_skills_format(agent_project: tuple[str, bool, Path]) -> None:
    """Claude Code, Copilot and Cursor load skills in this one format from `.claude/skills/`."""
    skills = sorted((agent_project[2] / ".claude" / "skills").glob("*/SKILL.md"))
    assert skills
    for skill in skills:
        data, body = front_matter(skill)
        assert set(data) <= SKILL_FIELDS, skill
        assert SKILL_NAME.match(data["name"]), data["name"]
        assert len(data["name"]) <= 64
        assert data["name"] == skill.parent.name
        assert isinstance(data["description"], str)
        assert 1 <= len(data["description"]) <= 1024
    _, body = front_matter(agent_project[2] / ".claude" / "skills" / "fastapi" / "SKILL.md")
    assert "## A new resource, in order" in body


def test_other_agents_files_follow_their_formats_and_point_at_agents_md(
    agent_project: tuple[str, bool, Path],
) -> None:
    project = agent_project[2]
    if answers_of(project)["agent_tools"] != "all":
        pytest.skip("agent_tools=claude: Claude Code's files only")
    for rule in sorted((project / ".cursor" / "rules").glob("*.mdc")):
        data, body = front_matter(rule)
        assert {key: type(value) for key, value in data.items()} == CURSOR_RULE_FIELDS, rule
        assert data["alwaysApply"] is False  # AGENTS.md is read always; these by glob
        assert "`AGENTS.md`" in body
    for instructions in sorted((project / ".github" / "instructions").glob("*.instructions.md")):
        data, body = front_matter(instructions)
        assert set(data) <= set(COPILOT_FIELDS), instructions
        assert "applyTo" in data
        assert all(isinstance(data[key], COPILOT_FIELDS[key]) for key in data)
        assert "](../../AGENTS.md)" in body
    copilot = (project / ".github" / "copilot-instructions.md").read_text()
    assert not copilot.startswith("---")  # repository-wide instructions take no front matter
    assert "](../AGENTS.md)" in copilot
    gemini = json.loads((project / ".gemini" / "settings.json").read_text())
    assert gemini == {"context": {"fileName": ["AGENTS.md"]}}


def test_no_fact_is_written_twice(agent_project: tuple[str, bool, Path]) -> None:
    """A sentence carried by two agent files would drift apart; the ownership lines are the
    exception, rendered from one macro and held equal by agents-check. The other agents' files
    only point (their bodies are a few lines)."""
    project = agent_project[2]
    seen: dict[str, set[str]] = {}
    for doc in agent_docs(project):
        where = doc.relative_to(project).as_posix()
        text = doc.read_text()
        if text.startswith("---\n"):
            text = text.split("\n---\n", 1)[1]
        if doc.name.endswith((".mdc", ".instructions.md")):
            assert len(text) <= 600, where
            continue
        text = OWNERSHIP_LINE.sub("", FENCED_BLOCK.sub("", text))
        for sentence in re.split(r"(?<=[.:;!?])\s+|\n\s*\n|\n- |\n\d+\. ", text):
            sentence = " ".join(sentence.split())
            if len(sentence) >= FACT_LENGTH:
                seen.setdefault(sentence, set()).add(where)
    twice = {sentence: sorted(docs) for sentence, docs in seen.items() if len(docs) > 1}
    assert twice == {}


@pytest.mark.parametrize("variant", UNLINTED_WITH_AGENTS, ids=lambda variant: variant.id)
def test_baked_agents_check_passes(variant: Variant, bake: Baker) -> None:
    project = bake(**variant.bake_answers())
    result = run_make(project, shared_venv(project), "agents-check")
    assert "every name in them is true" in result.stdout


def test_taskiq_agent_files_describe_the_worker_truly(bake: Baker) -> None:
    # Its agents-check runs with the matrix row's lint, in the bake's own environment.
    project = bake(**variant_named("taskiq_py313").bake_answers())
    assert "`make worker`" in (project / "AGENTS.md").read_text()
    page = (project / ".claude/skills/fastapi/reference/emails-and-jobs.md").read_text()
    assert "`app/jobs/tasks.py`" in page
    assert "in_process" not in page


def test_contract_names_the_team_and_the_agents_repeat_their_section(
    agent_project: tuple[str, bool, Path],
) -> None:
    agent_files, _, project = agent_project
    if agent_files != "team":
        pytest.skip("a single backend agent owns everything")
    contract = (project / ".claude" / "CONTRACT.md").read_text()
    sections = {s.split("\n", 1)[0] for s in re.split(r"^## ", contract, flags=re.MULTILINE)}
    assert set(TEAM) <= sections
    for agent in TEAM:
        lines = OWNERSHIP_LINE.findall((project / ".claude" / "agents" / f"{agent}.md").read_text())
        assert lines == ["OWNS", "READS", "CANNOT TOUCH"], agent


def test_agents_check_names_a_deleted_path_and_an_unlisted_resource_until_make_resource(
    bake: Baker, tmp_path: Path
) -> None:
    project = copy_project(bake(**variant_named("agents_all").bake_answers()), tmp_path)
    venv = shared_venv(project)
    named = project / "docs" / "operations.md"
    text = named.read_text()
    named.unlink()
    gone = run_make(project, venv, "agents-check", check=False)
    print(gone.stdout)  # noqa: T201  (shown with -rP)
    assert gone.returncode != 0
    assert "AGENTS.md: `docs/operations.md` does not exist" in gone.stdout
    named.write_text(text)
    hand_made = project / "app" / "api" / "v1" / "endpoints" / "projects.py"
    hand_made.write_text("")
    unlisted = run_make(project, venv, "agents-check", check=False)
    assert unlisted.returncode != 0
    assert "resource `projects` (app/api/v1/endpoints/projects.py) is not in" in unlisted.stdout
    hand_made.unlink()
    resource = {"name": "projects", "fields": "title:str", "owned": "yes"}
    run_make(project, venv, "resource", env=resource)
    passed = run_make(project, venv, "agents-check")
    print(passed.stdout)  # noqa: T201
    assert "- `projects`: rows owned by a user" in (project / "AGENTS.md").read_text()


def test_settings_allow_project_commands_and_deny_env(
    agent_project: tuple[str, bool, Path],
) -> None:
    settings = json.loads((agent_project[2] / ".claude" / "settings.json").read_text())
    assert settings["$schema"] == "https://json.schemastore.org/claude-code-settings.json"
    assert set(settings) == {"$schema", "permissions", "hooks"}
    permissions = settings["permissions"]
    assert set(permissions) == {"allow", "ask", "deny"}
    rules = [*permissions["allow"], *permissions["ask"], *permissions["deny"]]
    assert all(isinstance(rule, str) and PERMISSION_RULE.match(rule) for rule in rules), rules
    assert {"Bash(make test)", "Bash(make lint)", "Bash(.venv/bin/alembic check)"} <= set(
        permissions["allow"]
    )
    assert {"Bash(make resource *)", "Bash(make template-check)"} <= set(permissions["allow"])
    assert any(rule.startswith("Bash(.venv/bin/pytest") for rule in permissions["allow"])
    assert "Read(./.env)" in permissions["deny"]
    assert "Bash(make agents-check)" in permissions["allow"]
    # Migrations and the server act on DATABASE_URL, the developer's database: asked, not allowed.
    assert {"Bash(make migrate)", "Bash(make run)", "Bash(.venv/bin/alembic upgrade *)"} <= set(
        permissions["ask"]
    )
    assert not any("migrate" in rule or "upgrade" in rule for rule in permissions["allow"])


def test_commands_have_front_matter_and_use_their_arguments(
    agent_project: tuple[str, bool, Path],
) -> None:
    for command in COMMANDS:
        data, body = front_matter(agent_project[2] / ".claude" / "commands" / f"{command}.md")
        assert set(data) == COMMAND_FIELDS, command
        assert data["description"]
        tools = [rule.strip() for rule in re.split(r",\s*(?![^()]*\))", data["allowed-tools"])]
        assert all(PERMISSION_RULE.match(rule) for rule in tools), tools
        assert "$ARGUMENTS" in body


def test_add_resource_command_runs_make_resource(agent_project: tuple[str, bool, Path]) -> None:
    _, body = front_matter(agent_project[2] / ".claude" / "commands" / "add-resource.md")
    assert "`make resource`" in body
    skill = (agent_project[2] / ".claude" / "skills" / "fastapi" / "SKILL.md").read_text()
    first_step = skill.split("## A new resource, in order", 1)[1].split("\n2. ", 1)[0]
    assert "make resource name=" in first_step


def hook_commands(project: Path) -> list[str]:
    settings = json.loads((project / ".claude" / "settings.json").read_text())
    hooks = settings["hooks"]
    assert set(hooks) <= HOOK_EVENTS
    commands = []
    for groups in hooks.values():
        for group in groups:
            assert set(group) <= {"matcher", "hooks"}
            assert all(re.fullmatch(group["matcher"], tool) for tool in EDITING_TOOLS)
            for hook in group["hooks"]:
                assert set(hook) <= {"type", "command", "timeout"}
                assert hook["type"] == "command"
                commands.append(hook["command"])
    assert commands
    return commands


def run_hook(command: str, project: Path, edited: Path) -> tuple[int, str]:
    event = {"tool_name": "Edit", "tool_input": {"file_path": str(edited)}}
    result = subprocess.run(
        ["bash", "-c", command],
        input=json.dumps(event),
        env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed_agent_project(agent_project: tuple[str, bool, Path]) -> Path:
    """The variant with its `.venv` in place (the shared one), as after `make install`."""
    project = agent_project[2]
    if not (project / ".venv").exists():
        (project / ".venv").symlink_to(shared_venv(project))
    return project


def differing_from(project: Path, reference: Path, paths: list[Path]) -> list[Path]:
    """Those of `paths` (in `project`) that `reference` lacks or holds with other content, once
    the project's folder name reads as the reference's."""
    differing = []
    for path in paths:
        twin = reference / path.relative_to(project)
        ours = path.read_text().replace(project.name, reference.name)
        if not twin.is_file() or twin.read_text() != ours:
            differing.append(path)
    return differing


def test_every_hook_command_exists_and_passes_on_an_untouched_bake(
    installed_agent_project: Path, default_project: Path
) -> None:
    project = installed_agent_project
    python_files = sorted(
        path for path in project_files(project) if path.suffix == ".py" and path.is_file()
    )
    before = {path: path.read_bytes() for path in python_files}
    # The hook's verdict depends on the file alone (one ruff configuration in every bake): every
    # file of the default bake, and in the others those that differ from it, and the entry point.
    hooked = python_files
    if project.name != default_project.name:
        hooked = differing_from(project, default_project, python_files)
        hooked.append(project / "app" / "main.py")
    for command in hook_commands(project):
        assert shutil.which(command.split()[0]), command
        for script in re.findall(r"\$CLAUDE_PROJECT_DIR/([^\"\s]+)", command):
            assert (project / script).is_file(), script
        for path in sorted(set(hooked)):
            status, output = run_hook(command, project, path)
            assert status == 0, (path, output)
    changed = [path for path in python_files if path.read_bytes() != before[path]]
    assert changed == []


def test_edit_hook_tidies_the_file_keeps_imports_and_reports_what_ruff_cannot_fix(
    installed_agent_project: Path,
) -> None:
    project = installed_agent_project
    scratch = project / "app" / "hook_scratch.py"
    try:
        [command] = hook_commands(project)
        # An agent's first edit adds the imports; the next one writes the code that uses them.
        scratch.write_text("import os,sys\nvalue   =  {'a':1}\n")
        status, output = run_hook(command, project, scratch)
        assert (status, output) == (0, "")
        assert scratch.read_text() == 'import os\nimport sys\n\nvalue = {"a": 1}\n'
        scratch.write_text(scratch.read_text() + "separator = os.sep\nargs = sys.argv\n")
        status, output = run_hook(command, project, scratch)
        assert (status, output) == (0, "")
        assert "separator = os.sep" in scratch.read_text()
        scratch.write_text("value = undefined_name\n")
        status, output = run_hook(command, project, scratch)
        assert status == 2
        assert "F821" in output
    finally:
        scratch.unlink(missing_ok=True)


def test_claude_md_imports_agents_md(agent_project: tuple[str, bool, Path]) -> None:
    claude_md = (agent_project[2] / "CLAUDE.md").read_text()
    assert claude_md.splitlines()[0] == "@AGENTS.md"


def test_content_follows_the_example_resource_answer(agent_project: tuple[str, bool, Path]) -> None:
    _, example_resource, project = agent_project
    text = "\n".join(doc.read_text() for doc in agent_docs(project))
    mentions_items = re.search(r"\bitems?\b", text, re.IGNORECASE) is not None
    assert mentions_items == example_resource


def test_content_follows_database_and_redis_answers(bake: Baker) -> None:
    lite = bake(**variant_named("sqlite_taskiq").bake_answers())
    default = bake(**variant_named("default").bake_answers())
    lite_text = "\n".join(doc.read_text() for doc in agent_docs(lite))
    default_text = "\n".join(doc.read_text() for doc in agent_docs(default))
    assert "SQLite" in lite_text
    assert "PostgreSQL" not in lite_text
    assert "Redis" in lite_text
    assert "PostgreSQL" in default_text
    assert "SQLite" not in default_text
    assert re.search("redis", default_text, re.IGNORECASE) is None


def claude_command() -> str | None:
    if CLAUDE_BIN.exists():
        return str(CLAUDE_BIN)
    return shutil.which("claude")


@pytest.fixture(scope="module")
def claude() -> str:
    command = claude_command()
    if command is None:
        reason = "Claude Code is not installed: run `make claude` (npm install into .cache/claude)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return command


def validate(claude: str, folder: Path) -> tuple[int, str]:
    result = run(
        [claude, "plugin", "validate", "--strict", str(folder)],
        cwd=folder.parent,
        env={"DISABLE_AUTOUPDATER": "1", "DISABLE_TELEMETRY": "1"},
        timeout=120,
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def test_claude_code_validator_accepts_the_agent_files(
    claude: str, agent_project: tuple[str, bool, Path]
) -> None:
    status, output = validate(claude, agent_project[2] / ".claude")
    assert status == 0, output
    assert "Validation passed" in output


def test_claude_code_validator_refuses_an_agent_without_description(
    claude: str, bake: Baker, tmp_path: Path
) -> None:
    project = tmp_path / "broken"
    shutil.copytree(bake(project_name="Agt Team") / ".claude", project / ".claude")
    backend = project / ".claude" / "agents" / "backend.md"
    text = backend.read_text()
    backend.write_text(re.sub(r"^description: .*\n", "", text, count=1, flags=re.MULTILINE))
    status, output = validate(claude, project / ".claude")
    assert status == 1, output
    assert "description" in output
