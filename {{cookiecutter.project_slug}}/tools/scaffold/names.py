"""The words a resource is written with: its plural as given, its singular and articles from
the inflect library (movies -> movie, analyses -> analysis, series -> series, "an invoice").

English has too many irregular words for a rule of endings; a library that knows them guesses
right far more often, and `make resource` prints what it chose so a wrong guess is seen before
anything is written (`singular=` overrides it).
"""

import builtins
import keyword

import inflect

from tools.scaffold.errors import SpecError

ENGLISH = inflect.engine()
# Singular words that end like these are taken for plurals by inflect (bus -> "bu",
# analysis -> "analysi"); no English plural ends so, so such a name is a singular.
SINGULAR_ENDINGS = ("us", "ss", "sis")
# The variables the generated code already uses next to a resource's singular (the database
# session, the signed-in user, the page of results, ...): a resource of that name would hide them.
GENERATED_NAMES = frozenset(
    {"session", "user", "admin", "data", "params", "page", "client", "url", "response"}
    | {"change", "changes", "before", "updated", "duplicate", "mine", "service", "repository"}
    | {"values", "payload", "create", "row"}
)
# What else the service already calls by these names.
RESERVED_NAMES = {
    "api": "the app/api package",
    "app": "the app package",
    "tests": "the tests package",
    "tools": "the tools package (make resource itself)",
    "alembic": "the migrations folder",
    "auth": "the sign-in routes (/api/v1/auth, app/api/v1/endpoints/auth.py)",
    "health": "the probes (/health/live, /health/ready, app/api/health.py)",
    "base": "the bases every resource builds on (app/models/base.py, app/repositories/base.py)",
    "common": "the shared schemas (app/schemas/common.py)",
    "deps": "the dependencies (app/api/deps.py)",
    "router": "the API router (app/api/v1/router.py)",
}


def singular_of(plural: str) -> str:
    """The singular inflect finds for the last word of `plural`, or SpecError."""
    head, _, last = plural.rpartition("_")
    prefix = f"{head}_" if head else ""
    found = ENGLISH.singular_noun(last)
    if found is False or (last.endswith(SINGULAR_ENDINGS) and found == last[:-1]):
        raise SpecError(
            f"name '{plural}' looks singular: name the resource by its plural "
            f"({prefix}{ENGLISH.plural_noun(last)}); if its plural is the same word, "
            f"add singular={plural}"
        )
    return f"{prefix}{found}"


def with_article(words: str) -> str:
    """`an invoice`, `a user`, `an hour`: the article English gives the words' sound."""
    return ENGLISH.a(words)


def check_identifier(name: str, word: str) -> None:
    """SpecError unless `word` (the name or its singular) can name the resource in Python."""
    if keyword.iskeyword(word):
        raise SpecError(f"name '{name}' cannot be used: '{word}' is a Python keyword")
    if hasattr(builtins, word):
        raise SpecError(
            f"name '{name}' cannot be used: '{word}' is a Python builtin, which the generated "
            "code would hide"
        )
    if word in RESERVED_NAMES:
        raise SpecError(f"name '{name}' is reserved: '{word}' is {RESERVED_NAMES[word]}")
    if word in GENERATED_NAMES:
        raise SpecError(
            f"name '{name}' is reserved: the generated code has its own variable '{word}'"
        )
