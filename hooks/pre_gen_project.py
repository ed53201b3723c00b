"""Refuses answers that cannot bake a working project, before anything is written.

Cookiecutter renders this file first, so the answers arrive as JSON inside a string literal;
everything else is plain Python that the template tests import and call directly. The same rules
run earlier, while cookiecutter asks its questions, through `answers_extension.py`; this hook is
the backstop for paths that skip the questions (`--replay`).
"""

import hashlib
import json
import keyword
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# cookiecutter depends on python-slugify, so every interpreter that runs this hook has it.
from slugify import slugify

# Raw string: JSON escapes (\" and \\) in the answers must reach json.loads unchanged.
ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""
# Rendering this line runs refuse_edited_rebake inside cookiecutter (answers_extension.py), where
# a refusal prints one line instead of a hook traceback; it renders as an empty string.
REBAKE_CHECKED = "{{ cookiecutter | refuse_edited_rebake }}"
# The choices of cookiecutter.json (answers_extension.py reads them from beside itself).
CHOICES_JSON = r"""{{ cookiecutter | template_choices }}"""

# PostgreSQL truncates names past 63 bytes; the longest derived name is <slug>_test_reliability.
POSTGRES_NAME_LIMIT = 63
LONGEST_DATABASE_SUFFIX = "_test_reliability"
# Free-text answers land inside quoted strings in pyproject.toml and Python modules.
TEXT_ANSWERS = ("project_name", "description", "author_name")
UNQUOTABLE = re.compile(r'["\\\n\r]')
SLUG = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
# Names the baked project imports or creates at its root: a slug equal to one would shadow it.
RESERVED_SLUGS = frozenset(
    {"app", "test", "tests", "alembic", "fastapi", "sqlalchemy", "pydantic", "starlette", "jose"}
    | {"passlib", "slowapi", "limits", "uvicorn", "httpx", "pytest", "asyncpg", "redis", "hooks"}
) | frozenset(sys.stdlib_module_names)

# Added to a derived slug that would start with a digit or shadow a module (keeps it readable).
SLUG_AFFIX = "service"
FALLBACK_SLUG = "service"

# Written by hooks/post_gen_project.py: the hash of every file of the earlier bake.
MANIFEST = ".bake-manifest.json"
# Set to 1 to re-bake over a folder whose baked files were edited (they are overwritten).
FORCE_VARIABLE = "OVERWRITE_EDITED"
SHOWN_FILES = 5

Check = Callable[[Mapping[str, Any]], str | None]


def check_project_name(answers: Mapping[str, Any]) -> str | None:
    if not str(answers["project_name"]).strip():
        return "project_name is empty: give the service a name, e.g. 'Billing API'"
    return None


def derive_slug(text: str) -> str:
    """A slug every check accepts, from a project name or a refused slug.

    `Billing API v2.0` -> `billing_api_v2_0`, `Café API` -> `cafe_api`, `3D Print API` ->
    `service_3d_print_api`, `JSON` -> `json_service`.
    """
    room = POSTGRES_NAME_LIMIT - len(LONGEST_DATABASE_SUFFIX) - len(SLUG_AFFIX) - 1
    # ASCII-folds, lowercases, and turns every run of other characters into one underscore.
    slug = slugify(text, separator="_", max_length=room) or FALLBACK_SLUG
    if slug[0].isdigit():
        return f"{SLUG_AFFIX}_{slug}"
    if slug in RESERVED_SLUGS or keyword.iskeyword(slug):
        return f"{slug}_{SLUG_AFFIX}"
    return slug


def check_slug(answers: Mapping[str, Any]) -> str | None:
    slug = str(answers["project_slug"])
    suggestion = f"; try '{derive_slug(slug)}'"
    if not SLUG.match(slug) or keyword.iskeyword(slug):
        return (
            f"project_slug '{slug}' is not a lowercase Python identifier "
            f"(letters, digits and underscores, starting with a letter){suggestion}"
        )
    if slug in RESERVED_SLUGS:
        return f"project_slug '{slug}' would shadow the module '{slug}' the project imports{suggestion}"
    return None


def check_email(answers: Mapping[str, Any]) -> str | None:
    email = str(answers["author_email"])
    if not EMAIL.match(email):
        return f"author_email '{email}' is not an email address (expected name@domain.tld)"
    return None


def check_quotable_text(answers: Mapping[str, Any]) -> str | None:
    for name in TEXT_ANSWERS:
        if UNQUOTABLE.search(str(answers[name])):
            return f"{name} contains a double quote, backslash or line break; write it without them"
    return None


def check_database_name_length(answers: Mapping[str, Any]) -> str | None:
    """A slug can be fine on its own and still too long for the database names derived from it."""
    if answers["database"] != "postgresql":
        return None
    longest = f"{answers['project_slug']}{LONGEST_DATABASE_SUFFIX}"
    if len(longest.encode()) > POSTGRES_NAME_LIMIT:
        allowed = POSTGRES_NAME_LIMIT - len(LONGEST_DATABASE_SUFFIX)
        return (
            f"project_slug is too long for database=postgresql: the test database "
            f"'{longest}' exceeds {POSTGRES_NAME_LIMIT} bytes; use at most {allowed} characters, "
            f"e.g. '{derive_slug(str(answers['project_slug']))}'"
        )
    return None


def check_kubernetes_combination(answers: Mapping[str, Any]) -> str | None:
    if answers["kubernetes"] and not answers["docker"]:
        return "kubernetes=yes needs docker=yes: the manifests run the image the Dockerfile builds"
    if answers["kubernetes"] and answers["database"] == "sqlite":
        return "kubernetes=yes needs database=postgresql: replicas cannot share one SQLite file"
    return None


def template_choices() -> dict[str, list[str]]:
    """The answers with a list of choices, from CHOICES_JSON once cookiecutter rendered it."""
    try:
        choices: dict[str, list[str]] = json.loads(CHOICES_JSON)
    except json.JSONDecodeError:  # unrendered: read as a plain module (tests, answers_extension)
        return {}
    return choices


def check_choices(answers: Mapping[str, Any]) -> str | None:
    """Each answer with a list of choices is one of them.

    Cookiecutter checks choices only while it asks; `--replay` and `--replay-file` pass a stored
    answer file as it is, so a hand-edited `database: "oracle"` would otherwise bake.
    """
    for name, choices in template_choices().items():
        if name in answers and answers[name] not in choices:
            return f"{name}={answers[name]!r} is not one of its choices: {', '.join(choices)}"
    return None


CHECKS: tuple[Check, ...] = (
    check_choices,
    check_project_name,
    check_slug,
    check_email,
    check_quotable_text,
    check_database_name_length,
    check_kubernetes_combination,
)


def problems(answers: Mapping[str, Any]) -> list[str]:
    return [message for check in CHECKS if (message := check(answers)) is not None]


def known_problems(answers: Mapping[str, Any]) -> list[str]:
    """The problems visible in the answers given so far; checks that need later answers wait."""
    found = []
    for check in CHECKS:
        try:
            message = check(answers)
        except KeyError:
            continue
        if message is not None:
            found.append(message)
    return found


def edited_files(project: Path) -> list[str] | None:
    """Baked files changed or deleted since the earlier bake; None if the folder was not baked."""
    manifest = project / MANIFEST
    if not manifest.is_file():
        return None
    hashes: dict[str, str] = json.loads(manifest.read_text())
    return [
        relative
        for relative, digest in hashes.items()
        if not (project / relative).is_file()
        or hashlib.sha256((project / relative).read_bytes()).hexdigest() != digest
    ]


def refuse_edited_rebake(project: Path, force: bool) -> str | None:
    """Cookiecutter's --overwrite-if-exists (used by `make bake`) rewrites every template file:
    allowed over an untouched earlier bake, refused over anything else unless forced."""
    if not any(project.iterdir()):
        return None
    edited = edited_files(project)
    if edited == []:
        return None
    what = (
        f"has changes since it was baked: {', '.join(edited[:SHOWN_FILES])}"
        + (f" and {len(edited) - SHOWN_FILES} more" if len(edited) > SHOWN_FILES else "")
        if edited
        else f"was not baked by this template (no {MANIFEST})"
    )
    if force:
        print(f"WARNING: {project} {what}; {FORCE_VARIABLE}=1: overwriting them (.env is kept)")
        return None
    return (
        f"{project} {what}; re-baking would overwrite them. Bake elsewhere (cookiecutter -o DIR, "
        f"make bake OUT=DIR) or set {FORCE_VARIABLE}=1 to overwrite (.env is kept)"
    )


def main() -> int:
    found = problems(json.loads(ANSWERS_JSON))
    for message in found:
        print(f"ERROR: {message}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
