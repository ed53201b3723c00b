"""The baked agent files are valid for Claude Code and true of the project they land in."""

import fnmatch
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
    leftover_template_syntax,
    project_files,
    run,
    shared_venv,
)
from tests.variants import AGENTS, Variant, variant_named, variants_in

AGENT_VARIANTS = variants_in(AGENTS)
WITH_AGENTS = [
    variant for variant in AGENT_VARIANTS if variant.answer("agent_files", "team") != "none"
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
INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCED_BLOCK = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
PATH_WORD = re.compile(r"[A-Za-z0-9_.*<>/-]+")
MAKE_TARGET = re.compile(r"\bmake ([a-z][a-z-]*)")
OWNS_LINE = re.compile(r"^- OWNS: (.+)$", re.MULTILINE)
CLAUDE_BIN = TEMPLATE_ROOT / ".cache" / "claude" / "node_modules" / ".bin" / "claude"


def expected_files(agent_files: str) -> set[str]:
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
    return files


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
    """Every instruction file an agent reads: `.claude/**/*.md`, AGENTS.md and CLAUDE.md."""
    docs = sorted((project / ".claude").rglob("*.md"))
    return [*docs, project / "AGENTS.md", project / "CLAUDE.md"]


def front_matter(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text()
    assert text.startswith("---\n"), path
    header, body = text[4:].split("\n---\n", 1)
    data = yaml.safe_load(header)
    assert isinstance(data, dict), path
    return data, body


def cited_paths(text: str) -> set[str]:
    """Repository paths written in inline backticks; `<placeholders>` and URLs are skipped."""
    found = set()
    for span in INLINE_CODE.findall(FENCED_BLOCK.sub("", text)):
        for word in PATH_WORD.findall(span):
            if "<" in word or ">" in word:
                continue
            if not (word[0].isalpha() or word.startswith(".")):  # URL paths, "10/minute"
                continue
            if "/" in word or word in {".env", ".env.example"}:
                found.add(word)
    return found


def cited_make_targets(text: str) -> set[str]:
    """`make <target>` written as code (inline or fenced); prose like "make it pass" is not a command."""
    code = [*INLINE_CODE.findall(text), *FENCED_BLOCK.findall(text)]
    return {target for snippet in code for target in MAKE_TARGET.findall(snippet)}


def owned_globs(text: str) -> list[str]:
    match = OWNS_LINE.search(text)
    assert match, "no '- OWNS:' line"
    return INLINE_CODE.findall(match.group(1))


def owned_files(project: Path) -> list[str]:
    return [
        rel
        for path in project_files(project)
        if (rel := path.relative_to(project).as_posix()).startswith(OWNED_ROOTS)
    ]


def test_agent_files_are_exactly_those_of_the_variant(variant: tuple[str, bool, Path]) -> None:
    agent_files, _, project = variant
    baked = {
        path.relative_to(project).as_posix()
        for path in project_files(project)
        if path.relative_to(project).parts[0] in {".claude", "AGENTS.md", "CLAUDE.md"}
    }
    assert baked == expected_files(agent_files)


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
        assert 1 <= data["description"].count(". ") + 1 <= 3, data["description"]
        assert len(data["description"]) <= 400
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


def test_skill_front_matter_names_the_skill(agent_project: tuple[str, bool, Path]) -> None:
    data, body = front_matter(agent_project[2] / ".claude" / "skills" / "fastapi" / "SKILL.md")
    assert data["name"] == "fastapi"
    assert data["description"]
    assert "## A new resource, in order" in body


def test_every_backticked_path_exists(agent_project: tuple[str, bool, Path]) -> None:
    assert missing_cited_paths(agent_project[2]) == []


def missing_cited_paths(project: Path) -> list[str]:
    missing = []
    for doc in agent_docs(project):
        for cited in cited_paths(doc.read_text()):
            if cited.startswith(".venv/"):  # created by the first make target, never shipped
                continue
            candidates = [project / cited, doc.parent / cited]
            if "*" in cited:
                matched = any(fnmatch.fnmatchcase(rel, cited) for rel in owned_files(project))
                if not matched:
                    missing.append(f"{doc.relative_to(project)}: {cited}")
            elif not any(candidate.exists() for candidate in candidates):
                missing.append(f"{doc.relative_to(project)}: {cited}")
    return missing


def test_path_finder_sees_paths_and_skips_placeholders() -> None:
    text = 'Edit `app/main.py`, `make test ARGS="tests/api/test_x.py -k y"`, `app/models/<r>.py`, `/api/v1`, `10/minute`, `.env`.'
    assert cited_paths(text) == {"app/main.py", "tests/api/test_x.py", ".env"}


def test_every_cited_make_target_exists(agent_project: tuple[str, bool, Path]) -> None:
    cited, targets = make_targets(agent_project[2])
    assert cited
    assert cited - targets == set()


def make_targets(project: Path) -> tuple[set[str], set[str]]:
    """(targets the agent files cite, targets the Makefile has)."""
    makefile = (project / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.MULTILINE))
    cited = {
        target for doc in agent_docs(project) for target in cited_make_targets(doc.read_text())
    }
    return cited, targets


def test_taskiq_agent_files_describe_the_worker_truly(bake: Baker) -> None:
    project = bake(**variant_named("taskiq").bake_answers())
    assert missing_cited_paths(project) == []
    cited, targets = make_targets(project)
    assert "worker" in cited
    assert cited - targets == set()
    page = (project / ".claude/skills/fastapi/reference/emails-and-jobs.md").read_text()
    assert "`app/jobs/tasks.py`" in page
    assert "in_process" not in page


def test_contract_gives_every_file_exactly_one_owner(agent_project: tuple[str, bool, Path]) -> None:
    agent_files, _, project = agent_project
    agents_dir = project / ".claude" / "agents"
    if agent_files == "team":
        contract = (project / ".claude" / "CONTRACT.md").read_text()
        sections = re.split(r"^## ", contract, flags=re.MULTILINE)
        owners = {
            section.split("\n", 1)[0]: owned_globs(section)
            for section in sections
            if section.split("\n", 1)[0] in TEAM
        }
        assert set(owners) == set(TEAM)
        for agent, globs in owners.items():
            assert owned_globs((agents_dir / f"{agent}.md").read_text()) == globs, agent
    else:
        owners = {"backend": owned_globs((agents_dir / "backend.md").read_text())}
    files = owned_files(project)
    assert files
    wrong = {}
    for rel in files:
        matching = [
            a for a, globs in owners.items() if any(fnmatch.fnmatchcase(rel, g) for g in globs)
        ]
        if len(matching) != 1:
            wrong[rel] = matching
    assert wrong == {}


def test_settings_allow_project_commands_and_deny_env(
    agent_project: tuple[str, bool, Path],
) -> None:
    settings = json.loads((agent_project[2] / ".claude" / "settings.json").read_text())
    assert settings["$schema"] == "https://json.schemastore.org/claude-code-settings.json"
    assert set(settings) == {"$schema", "permissions", "hooks"}
    permissions = settings["permissions"]
    assert set(permissions) == {"allow", "deny"}
    rules = [*permissions["allow"], *permissions["deny"]]
    assert all(isinstance(rule, str) and PERMISSION_RULE.match(rule) for rule in rules), rules
    assert {"Bash(make test)", "Bash(make lint)", "Bash(.venv/bin/alembic *)"} <= set(
        permissions["allow"]
    )
    assert {"Bash(make resource *)", "Bash(make template-check)"} <= set(permissions["allow"])
    assert any(rule.startswith("Bash(.venv/bin/pytest") for rule in permissions["allow"])
    assert "Read(./.env)" in permissions["deny"]


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


def test_every_hook_command_exists_and_passes_on_an_untouched_bake(
    installed_agent_project: Path,
) -> None:
    project = installed_agent_project
    python_files = sorted(
        path for path in project_files(project) if path.suffix == ".py" and path.is_file()
    )
    before = {path: path.read_bytes() for path in python_files}
    for command in hook_commands(project):
        assert shutil.which(command.split()[0]), command
        for script in re.findall(r"\$CLAUDE_PROJECT_DIR/([^\"\s]+)", command):
            assert (project / script).is_file(), script
        for path in python_files:
            status, output = run_hook(command, project, path)
            assert status == 0, (path, output)
    changed = [path for path in python_files if path.read_bytes() != before[path]]
    assert changed == []


def test_edit_hook_tidies_the_file_and_reports_what_ruff_cannot_fix(
    installed_agent_project: Path,
) -> None:
    project = installed_agent_project
    scratch = project / "app" / "hook_scratch.py"
    try:
        scratch.write_text("import os,sys\nvalue   =  {'a':1}\n")
        [command] = hook_commands(project)
        status, output = run_hook(command, project, scratch)
        assert (status, output) == (0, "")
        assert scratch.read_text() == 'value = {"a": 1}\n'
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
    lite = bake(**variant_named("sqlite_redis").bake_answers())
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
