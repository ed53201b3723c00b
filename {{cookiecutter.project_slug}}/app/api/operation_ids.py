"""Operation ids that read like the API (`users.readMe`, `users.list`), for generated clients.

FastAPI's default joins the function name, the path and the method (`read_me_api_v1_users_me_get`),
so a generated client calls `readMeApiV1UsersMeGet`. The rule here, for every route:

    <tag>.<action>, both camelCased
    tag    = the route's first tag (its router's `tags=[...]`)
    action = the route's name (its function name unless `name=` is given), without the words
             that name the resource: the tag itself (`list_users` -> `list`) or its singular,
             the tag less -s or -es, or with -ies turned to -y (`read_user` -> `read`,
             `create_category` -> `create`)

so `read_me` under `users` is `users.readMe`, `logout_all` under `auth` is `auth.logoutAll`.
Ids never change with the path or the method, and generators group by the part before the dot.
An irregular plural keeps its singular (`people.createPerson`); a name that would be left empty
keeps every word. Two routes of one tag whose actions match would share an id: the project's
tests/api/test_openapi.py refuses that, so rename one of them.
"""

import re
from enum import Enum

from fastapi.routing import APIRoute


def operation_id(route: APIRoute) -> str:
    """`generate_unique_id_function` for the app: `<tag>.<action>` (see the module's rule)."""
    if not route.tags:  # untagged routes cannot be grouped: the action alone, still camelCased
        return _camel(route.name)
    tag = _tag_name(route.tags[0])
    return f"{_camel(tag)}.{_camel(_without_resource(route.name, tag))}"


def _tag_name(tag: str | Enum) -> str:
    return str(tag.value) if isinstance(tag, Enum) else tag


def _without_resource(name: str, tag: str) -> str:
    """`name` less the first run of words that is the tag or one of its singular forms."""
    padded = f"_{name}_"
    for resource in sorted(_resource_forms(tag), key=len, reverse=True):
        if f"_{resource}_" in padded:
            action = padded.replace(f"_{resource}_", "_", 1).strip("_")
            return action or name
    return name


def _resource_forms(tag: str) -> set[str]:
    """The tag and the singulars its English plural ending allows (`boxes` -> box, boxe)."""
    snake = re.sub(r"[^a-z0-9]+", "_", tag.lower()).strip("_")
    forms = {snake}
    if snake.endswith("ies"):
        forms.add(f"{snake[:-3]}y")
    if snake.endswith("es"):
        forms.add(snake[:-2])
    if snake.endswith("s"):
        forms.add(snake[:-1])
    return forms


def _camel(words: str) -> str:
    """`request_password_reset` -> `requestPasswordReset` (any run of non-alphanumerics splits)."""
    first, *rest = [word for word in re.split(r"[^A-Za-z0-9]+", words) if word] or [""]
    return first[:1].lower() + first[1:] + "".join(word[:1].upper() + word[1:] for word in rest)
