"""Renders a resource from the templates next to this file and wires it into the service.

Everything is rendered and checked in memory first; files are written only when all of it
succeeded, so a refusal leaves the tree as it was.
"""

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tools.agents_check import AGENTS_FILE, RESOURCES_END
from tools.scaffold.errors import SpecError
from tools.scaffold.spec import ResourceSpec

TEMPLATES = Path(__file__).parent / "templates"
MIGRATIONS = Path("alembic/versions")
REVISION_LINE = re.compile(r'^revision: str = "([^"]+)"$', re.MULTILINE)
DOWN_REVISION_LINE = re.compile(r'^down_revision: str \| None = "([^"]+)"$', re.MULTILINE)
ALL_LIST = re.compile(r"^__all__ = (\[.*?\])$", re.MULTILINE | re.DOTALL)
ROUTERS_LIST = re.compile(r"^ROUTERS: list\[APIRouter\] = \[\n.*?(?=^\])", re.MULTILINE | re.DOTALL)
# The docs list their sections in OPENAPI_TAGS (app/main.py); health stays last.
HEALTH_TAG = '{"name": "health"}'


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    # Not Jinja's default brace delimiters: those are cookiecutter's, and a bake keeps none of them.
    variable_start_string="<<",
    variable_end_string=">>",
    block_start_string="<%",
    block_end_string="%>",
    comment_start_string="<#",
    comment_end_string="#>",
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # Python source, not HTML
)
ENVIRONMENT.filters["camel"] = camel


def wiring(snippet: str, spec: ResourceSpec, suffix: str = ".py") -> str:
    """A line or block added to a file the service already has (templates/wiring/)."""
    return ENVIRONMENT.get_template(f"wiring/{snippet}{suffix}.jinja").render(r=spec)


class GeneratedCodeError(RuntimeError):
    """The files were written but fail lint: a bug in the templates, not in the request."""


@dataclass(frozen=True)
class Output:
    path: Path
    text: str


def new_files(spec: ResourceSpec, project: Path) -> list[Output]:
    revision, down_revision = next_revision(project)
    context = {
        "r": spec,
        "sqlalchemy_imports": sqlalchemy_imports(spec),
        "indexed": sorted(
            [f.name for f in spec.fields if f.indexed]
            + (["owner_id"] if spec.owned else [])
            + (["deleted_at"] if spec.soft_delete else [])
        ),
        "revision": revision,
        "down_revision": down_revision,
        "today": date.today().isoformat(),
    }
    targets = {
        "model.py.jinja": f"app/models/{spec.name}.py",
        "schemas.py.jinja": f"app/schemas/{spec.name}.py",
        "repository.py.jinja": f"app/repositories/{spec.name}.py",
        "service.py.jinja": f"app/services/{spec.name}.py",
        "endpoints.py.jinja": f"app/api/v1/endpoints/{spec.name}.py",
        "migration.py.jinja": f"{MIGRATIONS}/{revision}_{spec.name}.py",
        "test_api.py.jinja": f"tests/api/test_{spec.name}.py",
        "test_service.py.jinja": f"tests/services/test_{spec.name}.py",
        "test_repository.py.jinja": f"tests/repositories/test_{spec.name}.py",
    }
    outputs = [
        Output(Path(target), ENVIRONMENT.get_template(template).render(context))
        for template, target in targets.items()
    ]
    taken = [str(output.path) for output in outputs if (project / output.path).exists()]
    if taken:
        raise SpecError(f"resource '{spec.name}' would overwrite {', '.join(taken)}")
    return outputs


def sqlalchemy_imports(spec: ResourceSpec) -> list[str]:
    names = {spec_field.type.column.split("(")[0] for spec_field in spec.fields}
    names.discard("UTCDateTime")  # comes from app.db.base
    if spec.soft_delete and spec.unique_fields:
        names.update({"Index", "text"})  # unique among live rows: partial indexes
    elif spec.owned and spec.unique_fields:
        names.add("UniqueConstraint")  # unique per owner, in __table_args__
    if spec.owned:
        names.add("ForeignKey")
    return sorted(names)


def next_revision(project: Path) -> tuple[str, str]:
    """The next number and the single head it follows; the file is `NNNN_<name>.py` and the
    revision id `NNNN`, the same numbering `make revision` continues."""
    revisions, parents = set(), set()
    for path in (project / MIGRATIONS).glob("*.py"):
        text = path.read_text()
        if found := REVISION_LINE.search(text):
            revisions.add(found.group(1))
        if parent := DOWN_REVISION_LINE.search(text):
            parents.add(parent.group(1))
    heads = sorted(revisions - parents)
    if len(heads) != 1:
        raise SpecError(f"alembic has {len(heads)} heads ({', '.join(heads)}); merge them first")
    numbers = [int(revision) for revision in revisions if revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}", heads[0]


def insert_after_last(text: str, anchor: str, line: str) -> str:
    lines = text.splitlines(keepends=True)
    matches = [index for index, existing in enumerate(lines) if existing.startswith(anchor)]
    if not matches:
        raise SpecError(f"cannot find '{anchor}' to wire the resource in; add it by hand")
    lines.insert(matches[-1] + 1, line)
    return "".join(lines)


def with_export(text: str, name: str) -> str:
    match = ALL_LIST.search(text)
    if match is None:
        raise SpecError("app/models/__init__.py has no __all__ list to add the model to")
    names = sorted({*ast.literal_eval(match.group(1)), name})
    # One name a line, with the trailing comma that keeps ruff from joining them: adding a model
    # is then a one-line diff, and the file reads the same however many models it has.
    exported = "".join(f'    "{exported_name}",\n' for exported_name in names)
    return text[: match.start(1)] + f"[\n{exported}]" + text[match.end(1) :]


def with_docs_section(text: str, name: str) -> str:
    """The resource's tag in OPENAPI_TAGS, before health, so the docs list it with the others."""
    if HEALTH_TAG not in text:
        raise SpecError(f"app/main.py has no {HEALTH_TAG} in OPENAPI_TAGS; add the tag by hand")
    return text.replace(HEALTH_TAG, f"{json.dumps({'name': name})}, {HEALTH_TAG}", 1)


def with_router(text: str, module: str) -> str:
    """The resource's router at the end of ROUTERS: matched after the ones before it."""
    match = ROUTERS_LIST.search(text)
    if match is None:
        raise SpecError("app/api/v1/router.py has no ROUTERS list to add the router to")
    return text[: match.end()] + f"    {module}.router,\n" + text[match.end() :]


def with_resource_line(text: str, line: str) -> str:
    """The resource's line at the end of the resources list in AGENTS.md, which
    `make agents-check` holds complete: agents copy from that list."""
    if RESOURCES_END not in text:
        raise SpecError(f"{AGENTS_FILE} has no '{RESOURCES_END}' line; list the resource by hand")
    return text.replace(RESOURCES_END, line + RESOURCES_END, 1)


def edited_files(spec: ResourceSpec, project: Path) -> list[Output]:
    def read(relative: str) -> str:
        return (project / relative).read_text()

    models = insert_after_last(
        read("app/models/__init__.py"), "from app.models.", wiring("model_import", spec)
    )
    deps = insert_after_last(
        read("app/api/deps.py"), "from app.services.", wiring("service_import", spec)
    )
    router = insert_after_last(
        read("app/api/v1/router.py"),
        "from app.api.v1.endpoints import",
        wiring("endpoints_import", spec),
    )
    outputs = [
        Output(Path("app/main.py"), with_docs_section(read("app/main.py"), spec.name)),
        Output(Path("app/models/__init__.py"), with_export(models, spec.model)),
        Output(Path("app/api/deps.py"), deps + wiring("dependency", spec)),
        Output(Path("app/api/v1/router.py"), with_router(router, spec.name)),
    ]
    if (project / AGENTS_FILE).exists():  # absent when the project was baked without agent files
        line = wiring("resource_line", spec, suffix=".md")
        outputs.append(Output(AGENTS_FILE, with_resource_line(read(str(AGENTS_FILE)), line)))
    return outputs


def tidy(project: Path, paths: list[Path]) -> None:
    """Sorts imports and formats what was written, with the project's own ruff settings.

    The templates write argument and import lists without a trailing comma, so the formatter
    joins whatever fits on one line instead of keeping one item a line.
    """
    files = [str(path) for path in paths]
    ruff = [sys.executable, "-m", "ruff"]
    fixed = subprocess.run([*ruff, "check", "--quiet", "--fix", *files], cwd=project, check=False)
    subprocess.run([*ruff, "format", "--quiet", *files], cwd=project, check=True)
    if fixed.returncode != 0:
        raise GeneratedCodeError(
            "ruff found problems in the written files (above); please report it"
        )


def write(spec: ResourceSpec, project: Path) -> list[Output]:
    outputs = [*new_files(spec, project), *edited_files(spec, project)]
    for output in outputs:
        (project / output.path).write_text(output.text)
    tidy(project, [output.path for output in outputs if output.path.suffix == ".py"])
    return outputs
