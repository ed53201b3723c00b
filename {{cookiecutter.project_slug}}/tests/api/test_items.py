import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from app.models.users import User
from tests.conftest import assert_error
from tests.urls import url_for

URL = url_for("list_items")
Json = dict[str, Any]
FIELDS = {"title", "description"}


def payload(n: int) -> Json:
    """A valid body; `n` keeps unique values apart and orders the rows."""
    return {
        "title": f"title {n}",
        "description": f"description text {n}",
    }


def payload_value(n: int, field: str) -> Any:
    return payload(n)[field]


FILTERS = [
    ({"title_contains": str(payload_value(2, "title")).upper()}, {2}),
    ({"description_contains": str(payload_value(2, "description")).upper()}, {2}),
    # The value is bound as a parameter, never spliced into the SQL: it matches nothing.
    ({"title_contains": "' OR '1'='1"}, set()),
]


def url_of(id_: object) -> str:
    return url_for("read_item", item_id=id_)


async def create(client: AsyncClient, headers: dict[str, str], n: int) -> Json:
    response = await client.post(URL, json=payload(n), headers=headers)
    assert response.status_code == 201, response.text
    body: Json = response.json()
    return body


async def create_numbered(client: AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    """Three rows, 1 to 3; returns their ids mapped to their number."""
    return {(await create(client, headers, n))["id"]: n for n in (1, 2, 3)}


async def test_create_returns_every_field(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    body = await create(client, user_headers, 1)
    assert {name: body[name] for name in FIELDS} == payload(1)
    assert set(body) == FIELDS | {"owner_id", "id", "created_at", "updated_at"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * 201),
        ("description", "x" * 5001),
        ("title", None),
        # PostgreSQL refuses NUL in text: the schema must answer 422 before it becomes a 500.
        ("title", "nul\x00byte"),
        ("description", "nul\x00byte"),
        ("id", str(uuid.uuid4())),
        ("owner_id", str(uuid.uuid4())),
        ("created_at", "2000-01-01T00:00:00Z"),
    ],
)
async def test_create_rejects_bad_input(
    client: AsyncClient, user_headers: dict[str, str], field: str, value: object
) -> None:
    response = await client.post(URL, json={**payload(1), field: value}, headers=user_headers)
    assert response.status_code == 422, response.text
    assert_error(response.json(), "VALIDATION_ERROR")


@pytest.mark.parametrize("field", ["title"])
async def test_create_requires_its_required_fields(
    client: AsyncClient, user_headers: dict[str, str], field: str
) -> None:
    body = payload(1)
    del body[field]
    response = await client.post(URL, json=body, headers=user_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


async def test_items_need_authentication(client: AsyncClient) -> None:
    for method, url in (("GET", URL), ("POST", URL), ("GET", url_of(uuid.uuid4()))):
        response = await client.request(method, url, json=payload(1) if method == "POST" else None)
        assert response.status_code == 401
        assert_error(response.json(), "UNAUTHORIZED")


@pytest.mark.parametrize(("params", "expected"), FILTERS)
async def test_list_filters(
    client: AsyncClient, user_headers: dict[str, str], params: Json, expected: set[int]
) -> None:
    ids = await create_numbered(client, user_headers)
    body = (await client.get(URL, params=params, headers=user_headers)).json()
    assert {ids[row["id"]] for row in body["results"]} == expected
    assert body["total"] == len(expected)


@pytest.mark.parametrize("field", ["title"])
async def test_list_sorts_both_ways(
    client: AsyncClient, user_headers: dict[str, str], field: str
) -> None:
    ids = await create_numbered(client, user_headers)
    for sort, expected in ((field, [1, 2, 3]), (f"-{field}", [3, 2, 1])):
        body = (await client.get(URL, params={"sort": sort}, headers=user_headers)).json()
        assert [ids[row["id"]] for row in body["results"]] == expected


async def test_list_paginates(client: AsyncClient, user_headers: dict[str, str]) -> None:
    await create_numbered(client, user_headers)
    first = (await client.get(URL, params={"limit": 2}, headers=user_headers)).json()
    rest = (await client.get(URL, params={"limit": 2, "offset": 2}, headers=user_headers)).json()
    assert (first["total"], len(first["results"]), len(rest["results"])) == (3, 2, 1)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": 0},
        {"offset": -1},
        {"sort": "owner_id"},
        {"sort": "id; DROP TABLE items"},
        {"sort": "description"},
    ],
)
async def test_list_parameters_are_validated(
    client: AsyncClient, user_headers: dict[str, str], params: Json
) -> None:
    response = await client.get(URL, params=params, headers=user_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


async def test_read_update_delete(client: AsyncClient, user_headers: dict[str, str]) -> None:
    item = await create(client, user_headers, 1)
    url = url_of(item["id"])
    assert (await client.get(url, headers=user_headers)).json() == item
    change = {"title": payload_value(4, "title")}
    updated = await client.patch(url, json=change, headers=user_headers)
    assert updated.status_code == 200
    assert {name: updated.json()[name] for name in FIELDS} == {**payload(1), **change}
    assert (await client.delete(url, headers=user_headers)).status_code == 204
    gone = await client.get(url, headers=user_headers)
    assert gone.status_code == 404
    assert_error(gone.json(), "NOT_FOUND")


@pytest.mark.parametrize("field", ["description"])
async def test_update_can_clear_an_optional_field(
    client: AsyncClient, user_headers: dict[str, str], field: str
) -> None:
    item = await create(client, user_headers, 1)
    url = url_of(item["id"])
    response = await client.patch(url, json={field: None}, headers=user_headers)
    assert response.status_code == 200
    assert response.json()[field] is None


@pytest.mark.parametrize(
    "change",
    [
        {"title": None},
        {"owner_id": str(uuid.uuid4())},
        {"id": str(uuid.uuid4())},
    ],
)
async def test_update_rejects_bad_input(
    client: AsyncClient, user_headers: dict[str, str], change: Json
) -> None:
    item = await create(client, user_headers, 1)
    response = await client.patch(url_of(item["id"]), json=change, headers=user_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


async def test_users_see_only_their_own_items(
    client: AsyncClient, user_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    mine = await create(client, user_headers, 1)
    await create(client, other_headers, 2)
    body = (await client.get(URL, headers=user_headers)).json()
    assert [row["id"] for row in body["results"]] == [mine["id"]]
    assert body["total"] == 1


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_another_users_item_is_404_and_unchanged(
    client: AsyncClient,
    user_headers: dict[str, str],
    other_headers: dict[str, str],
    method: str,
) -> None:
    theirs = await create(client, other_headers, 1)
    url = url_of(theirs["id"])
    change = payload(2) if method == "PATCH" else None
    response = await client.request(method, url, json=change, headers=user_headers)
    missing = await client.get(url_of(uuid.uuid4()), headers=user_headers)
    assert response.status_code == 404
    assert_error(response.json(), "NOT_FOUND")
    assert response.json()["error"]["message"] == missing.json()["error"]["message"]
    assert (await client.get(url, headers=other_headers)).json() == theirs


async def test_admin_sees_and_changes_every_item(
    client: AsyncClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    theirs = await create(client, user_headers, 1)
    body = (await client.get(URL, headers=admin_headers)).json()
    assert [row["id"] for row in body["results"]] == [theirs["id"]]
    change = {"title": payload_value(2, "title")}
    response = await client.patch(url_of(theirs["id"]), json=change, headers=admin_headers)
    assert response.status_code == 200
    assert response.json()["owner_id"] == theirs["owner_id"]


async def test_a_read_after_a_write_is_never_stale(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    """The read is cached (app/cache/): each write must invalidate it, or the next read is stale."""
    item = await create(client, user_headers, 1)
    url = url_of(item["id"])
    for _ in range(2):  # the first read fills the cache, the second is served from it
        assert (await client.get(url, headers=user_headers)).json() == item
    change = {"title": payload_value(4, "title")}
    updated = (await client.patch(url, json=change, headers=user_headers)).json()
    assert (await client.get(url, headers=user_headers)).json() == updated
    assert (await client.delete(url, headers=user_headers)).status_code == 204
    assert (await client.get(url, headers=user_headers)).status_code == 404


async def test_a_cached_item_never_answers_another_user(
    client: AsyncClient,
    user_headers: dict[str, str],
    other_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    """The entry is the row, cached by whoever read it first; the owner check runs on every read."""
    mine = await create(client, user_headers, 1)
    url = url_of(mine["id"])
    assert (await client.get(url, headers=user_headers)).status_code == 200  # now cached
    theirs = await client.get(url, headers=other_headers)
    assert theirs.status_code == 404
    assert_error(theirs.json(), "NOT_FOUND")
    assert (await client.get(url, headers=admin_headers)).json() == mine


async def test_deleting_the_owner_drops_their_cached_items(
    client: AsyncClient, user: User, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    """The owner's rows go with the account (ON DELETE CASCADE), which no item write sees."""
    mine = await create(client, user_headers, 1)
    url = url_of(mine["id"])
    assert (await client.get(url, headers=admin_headers)).status_code == 200  # now cached
    deleted = await client.delete(url_for("delete_user", user_id=user.id), headers=admin_headers)
    assert deleted.status_code == 204
    assert (await client.get(url, headers=admin_headers)).status_code == 404
