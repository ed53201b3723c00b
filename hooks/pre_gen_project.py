"""Refuses answers that cannot bake a working project, before anything is written.

Cookiecutter renders this file first, so the answers arrive as JSON inside a string literal;
everything else is plain Python that the template tests import and call directly.
"""

import json
import keyword
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

# Raw string: JSON escapes (\" and \\) in the answers must reach json.loads unchanged.
ANSWERS_JSON = r"""{{ cookiecutter | jsonify }}"""

SUPPORTED_PYTHON = ("3.11", "3.12", "3.13")
# PostgreSQL truncates names past 63 bytes; the longest derived name is <slug>_test_migrations.
POSTGRES_NAME_LIMIT = 63
LONGEST_DATABASE_SUFFIX = "_test_migrations"
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

Check = Callable[[Mapping[str, Any]], str | None]


def check_project_name(answers: Mapping[str, Any]) -> str | None:
    if not str(answers["project_name"]).strip():
        return "project_name is empty: give the service a name, e.g. 'Billing API'"
    return None


def check_slug(answers: Mapping[str, Any]) -> str | None:
    slug = str(answers["project_slug"])
    if not SLUG.match(slug) or keyword.iskeyword(slug):
        return (
            f"project_slug '{slug}' is not a lowercase Python identifier "
            "(letters, digits and underscores, starting with a letter)"
        )
    if slug in RESERVED_SLUGS:
        return f"project_slug '{slug}' would shadow the module '{slug}' the project imports; pick another name"
    return None


def check_email(answers: Mapping[str, Any]) -> str | None:
    email = str(answers["author_email"])
    if not EMAIL.match(email):
        return f"author_email '{email}' is not an email address (expected name@domain.tld)"
    return None


def check_python(answers: Mapping[str, Any]) -> str | None:
    version = str(answers["python_version"])
    if version not in SUPPORTED_PYTHON:
        return f"python_version '{version}' is not supported; choose one of {', '.join(SUPPORTED_PYTHON)}"
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
            f"'{longest}' exceeds {POSTGRES_NAME_LIMIT} bytes; use at most {allowed} characters"
        )
    return None


def check_jobs_have_redis(answers: Mapping[str, Any]) -> str | None:
    """The taskiq queue lives in Redis; this template brings Redis in only through its own answer."""
    if answers["background_jobs"] == "taskiq" and answers["rate_limit_storage"] != "redis":
        return "background_jobs=taskiq queues jobs in Redis: also answer rate_limit_storage=redis"
    return None


CHECKS: tuple[Check, ...] = (
    check_project_name,
    check_slug,
    check_email,
    check_python,
    check_quotable_text,
    check_database_name_length,
    check_jobs_have_redis,
)


def problems(answers: Mapping[str, Any]) -> list[str]:
    return [message for check in CHECKS if (message := check(answers)) is not None]


def main() -> int:
    found = problems(json.loads(ANSWERS_JSON))
    for message in found:
        print(f"ERROR: {message}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
