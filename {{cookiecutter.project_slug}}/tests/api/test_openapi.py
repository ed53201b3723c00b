"""The OpenAPI document clients are generated from: readable ids (app/api/operation_ids.py) and,
for every operation, the statuses its kind of route can answer."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from httpx import AsyncClient

from app.api.operation_ids import operation_id

# `<tag>.<action>`, both camelCase: FastAPI's defaults (`read_me_api_v1_users_me_get`) never match.
READABLE_ID = re.compile(r"[a-z][A-Za-z0-9]*\.[a-z][A-Za-z0-9]*")
HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}

Operation = tuple[str, str, dict[str, Any]]


def operations(schema: dict[str, Any]) -> Iterator[Operation]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, operation


@pytest.fixture
async def schema(client: AsyncClient) -> dict[str, Any]:
    document: dict[str, Any] = (await client.get("/openapi.json")).json()
    return document


async def test_every_operation_id_is_tag_dot_action_and_unique(schema: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, operation in operations(schema):
        assert READABLE_ID.fullmatch(operation["operationId"]), (method, path, operation)
        tag = operation["tags"][0]
        assert operation["operationId"].split(".")[0] == operation_id_tag(tag), (method, path)


def operation_id_tag(tag: str) -> str:
    first, *rest = tag.split("_")
    return first + "".join(word.capitalize() for word in rest)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/health/live", "health.live"),
        ("POST", "/api/v1/auth/logout-all", "auth.logoutAll"),
        ("POST", "/api/v1/auth/password-reset", "auth.requestPasswordReset"),
        ("GET", "/api/v1/users/me", "users.readMe"),
        ("GET", "/api/v1/users", "users.list"),
        ("PATCH", "/api/v1/users/{user_id}", "users.update"),
{%- if cookiecutter.example_resource %}
        ("POST", "/api/v1/items", "items.create"),
        ("DELETE", "/api/v1/items/{item_id}", "items.delete"),
{%- endif %}
    ],
)
async def test_operation_ids_read_like_the_api(
    schema: dict[str, Any], method: str, path: str, expected: str
) -> None:
    assert schema["paths"][path][method.lower()]["operationId"] == expected


@pytest.mark.parametrize(
    ("tag", "function", "expected"),
    [
        ("boxes", "create_box", "boxes.create"),
        ("categories", "read_category", "categories.read"),
        ("blog_posts", "list_blog_posts", "blogPosts.list"),
        ("blog_posts", "update_blog_post", "blogPosts.update"),
        ("people", "create_person", "people.createPerson"),  # irregular: the singular stays
        ("users", "users", "users.users"),  # nothing would be left: every word stays
    ],
)
def test_the_resource_words_are_dropped_from_the_action(
    tag: str, function: str, expected: str
) -> None:
    router = APIRouter(tags=[tag], generate_unique_id_function=operation_id)

    async def endpoint() -> None: ...

    router.add_api_route("/", endpoint, name=function)
    route = router.routes[0]
    assert isinstance(route, APIRoute)
    assert route.unique_id == expected


def expected_statuses(method: str, path: str, operation: dict[str, Any]) -> set[str]:
    """What any route of this shape can answer, whatever it does."""
    expected: set[str] = set()
    if path.startswith("/api/v1/"):
        expected.add("429")  # the router's default rate limit
    if "requestBody" in operation:
        # Bytes that are not text (FastAPI's own 400), the body-size middleware, then validation.
        expected |= {"400", "413", "422"}
    if operation.get("parameters"):
        expected.add("422")
    if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
        expected.add("404")
    if operation.get("security"):
        expected.add("401")
    return expected


async def test_every_operation_documents_what_its_kind_of_route_can_answer(
    schema: dict[str, Any],
) -> None:
    missing = {}
    for method, path, operation in operations(schema):
        absent = expected_statuses(method, path, operation) - set(operation["responses"])
        if absent:
            missing[f"{method} {path}"] = sorted(absent)
    assert missing == {}


async def test_a_method_a_path_lacks_is_405_allowing_exactly_the_documented_ones(
    client: AsyncClient, schema: dict[str, Any]
) -> None:
    """What schemathesis checks as ST205: OPTIONS (no operation has it) on every path answers 405
    whose `Allow` names the path's documented methods, HEAD aside (served for some GETs)."""
    wrong = {}
    for template, item in schema["paths"].items():
        path = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", template)
        response = await client.options(path)
        documented = {method.upper() for method in item if method in HTTP_METHODS}
        allowed = set(response.headers.get("allow", "").split(", ")) - {"HEAD"}
        if response.status_code != 405 or allowed != documented:
            wrong[template] = (response.status_code, response.headers.get("allow"))
    assert wrong == {}
