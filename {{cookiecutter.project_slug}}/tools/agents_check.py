"""`make agents-check`: proves the coding-agent files are still true of this project.

Agent files (AGENTS.md, CLAUDE.md, `.claude/`, and where baked `.github/copilot-instructions.md`,
`.github/instructions/`, `.cursor/rules/`, `.gemini/settings.json`) name paths, routes, make
targets, slash commands and ownership globs. A resource added, a file moved by hand or a
template update can leave one naming something that is gone; an agent then follows it. This
checks every such name against the tree, and prints one line per problem (exit status 1).

Checked: each backticked path (a glob must match a file), each `/route` (a route of the app, or a
path the app serves from middleware), each `make <target>`, each `/command`, each Markdown link
and Cursor `@file`, the ownership globs (every file under app/, alembic/ and tests/ has exactly
one owner, each agent repeats its contract section), the resources list in AGENTS.md (one line
per module in app/api/v1/endpoints/) and the count of layer contracts.
"""

import ast
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
AGENTS_FILE = Path("AGENTS.md")
# `make resource` adds a resource's line just above this one (tools/scaffold/writer.py).
RESOURCES_START = "<!-- resources: make resource appends below this line -->"
RESOURCES_END = "<!-- resources: end -->"
ENDPOINTS = Path("app/api/v1/endpoints")
OWNED_ROOTS = ("app", "alembic", "tests")
# Written by tools, never part of the project's sources.
SKIPPED = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", ".git", ".uv"}

INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCED_BLOCK = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
PATH_WORD = re.compile(r"[A-Za-z0-9_.*<>/-]+")
ROUTE = re.compile(r"^/[a-z0-9_/.-]*$")
MAKE_TARGET = re.compile(r"\bmake ([a-z][a-z-]*)")
MAKEFILE_TARGET = re.compile(r"^([a-z][a-z-]*):", re.MULTILINE)
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)\)")
CURSOR_FILE = re.compile(r"(?<![\w`])@([\w./-]+\.\w+)")
OWNERSHIP_LINE = re.compile(r"^- (OWNS|READS|CANNOT TOUCH): (.+)$", re.MULTILINE)
FRONT_MATTER_GLOBS = re.compile(r"^(?:globs|applyTo): *\"?([^\"\n]*)\"?$", re.MULTILINE)
NUMBERED = re.compile(r"^\d+\. ", re.MULTILINE)
CONTRACT_TABLE = "[[tool.importlinter.contracts]]"


def agent_files(project: Path) -> list[Path]:
    """Every file a coding agent reads as instructions, in a stable order."""
    singles = ["AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md"]
    found = [project / name for name in singles if (project / name).is_file()]
    for folder, pattern in (
        (".claude", "**/*.md"),
        (".github/instructions", "*.instructions.md"),
        (".cursor/rules", "*.mdc"),
    ):
        found += sorted((project / folder).glob(pattern))
    return found


def project_files(project: Path, roots: Iterable[str] = OWNED_ROOTS) -> list[str]:
    """Files under `roots`, relative and with forward slashes; tool caches and `.venv` skipped
    without being walked."""
    files = []
    for root in roots:
        for folder, subfolders, names in os.walk(project / root):
            subfolders[:] = [name for name in subfolders if name not in SKIPPED]
            for name in names:
                if not name.endswith(".pyc"):
                    files.append((Path(folder) / name).relative_to(project).as_posix())
    return sorted(files)


def code_spans(text: str) -> list[str]:
    return INLINE_CODE.findall(FENCED_BLOCK.sub("", text))


def cited_paths(text: str) -> set[str]:
    """Repository paths written in inline backticks; `<placeholders>` and URLs are skipped."""
    found = set()
    for span in code_spans(text):
        for word in PATH_WORD.findall(span):
            if "<" in word or ">" in word or not (word[0].isalpha() or word.startswith(".")):
                continue
            if "/" in word or word in {".env", ".env.example"}:
                found.add(word.rstrip("."))
    return found


def cited_routes(text: str) -> set[str]:
    """`/route` spans: a whole span that is a URL path (`/api/v1`, `/health/live`)."""
    return {span for span in code_spans(text) if ROUTE.match(span) and len(span) > 1}


def cited_make_targets(text: str) -> set[str]:
    """`make <target>` written as code; prose like "make it pass" is not a command."""
    code = [*INLINE_CODE.findall(text), *FENCED_BLOCK.findall(text)]
    return {target for snippet in code for target in MAKE_TARGET.findall(snippet)}


def linked_files(text: str, *, cursor_rule: bool) -> set[str]:
    """Markdown links to files (Copilot follows them) and, in a Cursor rule, `@file` references."""
    prose = FENCED_BLOCK.sub("", text)
    links = {link for link in MARKDOWN_LINK.findall(prose) if "://" not in link}
    return links | set(CURSOR_FILE.findall(prose)) if cursor_rule else links


def exists(project: Path, doc: Path, cited: str, files: list[str]) -> bool:
    if cited.startswith(".venv/"):  # created by the first make target, never committed
        return True
    if "*" in cited:
        return any(fnmatchcase(name, cited) for name in files)
    return (project / cited).exists() or (doc.parent / cited).exists()


def served_paths(routes: Iterable[Any], prefix: str = "") -> Iterator[str]:
    """Every route's full path, WebSockets too; FastAPI keeps an included router as one entry
    (its `original_router` under the `include_context` prefix), so those are walked."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context_prefix = str(route.include_context.prefix)
            yield from served_paths(included.routes, prefix + context_prefix)
        else:
            yield prefix + str(getattr(route, "path", ""))


def app_routes(project: Path) -> set[str]:
    """Paths the app routes, and every string literal under app/ that looks like a path (what
    middleware serves, such as the metrics endpoint, is no route)."""
    paths: set[str] = set()
    try:
        sys.path.insert(0, str(project))
        from app.core.config import Environment, Settings
        from app.main import create_app

        # Every route the code can serve, whatever this machine's .env or environment turns off
        # (production hides the docs, a refused setting would stop the app being built).
        every_route = Settings(
            _env_file=None, environment=Environment.LOCAL, docs_enabled=True, metrics_enabled=True
        )
        paths |= set(served_paths(create_app(every_route).routes))
    except Exception as error:  # a broken app still gets its agent files checked
        print(f"agents-check: routes read from the source only ({error!r})", file=sys.stderr)
    for source in (project / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                paths.update(filter(ROUTE.match, [node.value]))
    return paths


def route_exists(route: str, routes: set[str]) -> bool:
    return any(path == route or path.startswith(route + "/") for path in routes)


def ownership(text: str) -> dict[str, list[str]]:
    """{'OWNS': [...], 'READS': [...], 'CANNOT TOUCH': [...]} of one agent's section."""
    return {kind: INLINE_CODE.findall(globs) for kind, globs in OWNERSHIP_LINE.findall(text)}


def contract_sections(project: Path) -> dict[str, str]:
    """Agent name -> the text it is held to: a team's `.claude/CONTRACT.md` sections, or the
    single backend agent's own file."""
    contract = project / ".claude" / "CONTRACT.md"
    if contract.is_file():
        sections = re.split(r"^## ", contract.read_text(), flags=re.MULTILINE)[1:]
        return {section.split("\n", 1)[0]: section for section in sections if "- OWNS:" in section}
    backend = project / ".claude" / "agents" / "backend.md"
    return {"backend": backend.read_text()} if backend.is_file() else {}


def ownership_problems(project: Path, files: list[str]) -> Iterator[str]:
    """Each file owned once; a glob that matches nothing is a cited path that does not exist."""
    sections = contract_sections(project)
    owners = {agent: ownership(text).get("OWNS", []) for agent, text in sections.items()}
    for agent, text in sections.items():
        agent_file = project / ".claude" / "agents" / f"{agent}.md"
        if not agent_file.is_file():
            yield f".claude/CONTRACT.md: agent '{agent}' has no .claude/agents/{agent}.md"
        elif ownership(agent_file.read_text()) != ownership(text):
            yield f".claude/agents/{agent}.md: its ownership lines differ from the contract's"
    if not owners:
        return
    for name in files:
        matching = [a for a, globs in owners.items() if any(fnmatchcase(name, g) for g in globs)]
        if len(matching) != 1:
            yield f"{name}: owned by {', '.join(matching) or 'no agent'} (exactly one expected)"


def resources_problems(project: Path) -> Iterator[str]:
    text = (project / AGENTS_FILE).read_text()
    if RESOURCES_START not in text or RESOURCES_END not in text:
        yield f"{AGENTS_FILE}: no resources list ({RESOURCES_START} ... {RESOURCES_END})"
        return
    listed = text.split(RESOURCES_START, 1)[1].split(RESOURCES_END, 1)[0]
    names = set(re.findall(r"^- `([a-z_0-9]+)`", listed, re.MULTILINE))
    modules = {path.stem for path in (project / ENDPOINTS).glob("*.py")} - {"__init__"}
    for name in sorted(modules - names):
        yield f"{AGENTS_FILE}: resource `{name}` ({ENDPOINTS}/{name}.py) is not in the resources list"
    for name in sorted(names - modules):
        yield f"{AGENTS_FILE}: resources list names `{name}`, which has no {ENDPOINTS}/{name}.py"


def contracts_problems(project: Path) -> Iterator[str]:
    text = (project / AGENTS_FILE).read_text()
    if "## Layer contracts" not in text:
        return
    section = text.split("## Layer contracts", 1)[1].split("\n## ", 1)[0]
    listed = len(NUMBERED.findall(section))
    configured = (project / "pyproject.toml").read_text().count(CONTRACT_TABLE)
    if listed != configured:
        yield f"{AGENTS_FILE}: lists {listed} layer contracts, pyproject.toml has {configured}"


def gemini_problems(project: Path) -> Iterator[str]:
    settings = project / ".gemini" / "settings.json"
    if settings.is_file():
        names = json.loads(settings.read_text()).get("context", {}).get("fileName", [])
        for name in [names] if isinstance(names, str) else names:
            if not (project / name).is_file():
                yield f".gemini/settings.json: context file {name} does not exist"


def problems(project: Path) -> list[str]:
    docs = agent_files(project)
    files = project_files(project)
    makefile = (project / "Makefile").read_text()
    targets = set(MAKEFILE_TARGET.findall(makefile))
    commands = project / ".claude" / "commands"
    everything = project_files(project, ["."])
    found: list[str] = []
    routes: set[str] | None = None
    for doc in docs:
        where = doc.relative_to(project).as_posix()
        text = doc.read_text()
        for cited in sorted(
            cited_paths(text) | linked_files(text, cursor_rule=doc.suffix == ".mdc")
        ):
            if not exists(project, doc, cited, files):
                found.append(f"{where}: `{cited}` does not exist")
        for target in sorted(cited_make_targets(text) - targets):
            found.append(f"{where}: `make {target}` is no Makefile target")
        for route in sorted(cited_routes(text)):
            if (commands / f"{route[1:]}.md").is_file():
                continue  # a slash command, such as /add-resource
            routes = app_routes(project) if routes is None else routes
            if not route_exists(route, routes):
                found.append(f"{where}: route `{route}` is not served by the app")
        for globs in FRONT_MATTER_GLOBS.findall(text):
            for glob in filter(None, (part.strip() for part in globs.split(","))):
                if not any(fnmatchcase(name, glob) for name in everything):
                    found.append(f"{where}: glob `{glob}` matches no file")
    found += ownership_problems(project, files)
    if (project / AGENTS_FILE).is_file():
        found += resources_problems(project)
        found += contracts_problems(project)
    found += gemini_problems(project)
    return found


def main(project: Path = PROJECT) -> int:
    docs = agent_files(project)
    if not docs:
        print("agents-check: this project has no agent files")
        return 0
    found = problems(project)
    for problem in found:
        print(problem)
    if found:
        print(f"agents-check: {len(found)} problem(s) in {len(docs)} agent files")
        return 1
    print(f"agents-check: {len(docs)} agent files, every name in them is true")
    return 0


if __name__ == "__main__":
    sys.exit(main())
