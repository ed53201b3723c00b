import uuid

import pytest
from httpx import AsyncClient

from tests.conftest import assert_error
from tests.urls import ITEMS, ME


async def create(
    client: AsyncClient, headers: dict[str, str], title: str, **extra: str
) -> dict[str, str]:
    response = await client.post(ITEMS, json={"title": title, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def test_create_item_returns_it_with_owner_and_timestamps(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    item = await create(client, user_headers, "  Buy milk ", description="Two litres")
    assert item["title"] == "Buy milk"
    assert item["description"] == "Two litres"
    me = (await client.get(ME, headers=user_headers)).json()
    assert item["owner_id"] == me["id"]
    assert set(item) == {"id", "title", "description", "owner_id", "created_at", "updated_at"}


@pytest.mark.parametrize(
    "payload",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"description": "no title"},
        {"title": "ok", "owner_id": str(uuid.uuid4())},
        {"title": "ok", "id": str(uuid.uuid4())},
        {"title": "ok", "description": "x" * 5001},
    ],
)
async def test_create_item_rejects_bad_input(
    client: AsyncClient, user_headers: dict[str, str], payload: dict[str, str]
) -> None:
    response = await client.post(ITEMS, json=payload, headers=user_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


async def test_items_need_authentication(client: AsyncClient) -> None:
    for method, url in (("GET", ITEMS), ("POST", ITEMS), ("GET", f"{ITEMS}/{uuid.uuid4()}")):
        response = await client.request(
            method, url, json={"title": "x"} if method == "POST" else None
        )
        assert response.status_code == 401
        assert_error(response.json(), "UNAUTHORIZED")


async def test_users_see_only_their_own_items(
    client: AsyncClient, user_headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    await create(client, user_headers, "mine")
    await create(client, other_headers, "theirs")
    body = (await client.get(ITEMS, headers=user_headers)).json()
    assert [item["title"] for item in body["results"]] == ["mine"]
    assert body["total"] == 1


async def test_admin_sees_every_item(
    client: AsyncClient,
    user_headers: dict[str, str],
    other_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    await create(client, user_headers, "a")
    await create(client, other_headers, "b")
    body = (await client.get(ITEMS, params={"sort": "title"}, headers=admin_headers)).json()
    assert [item["title"] for item in body["results"]] == ["a", "b"]


async def test_list_filters_sorts_and_paginates(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    for title in ("apple pie", "banana bread", "apple crumble", "cherry tart"):
        await create(client, user_headers, title)
    body = (
        await client.get(
            ITEMS, params={"q": "APPLE", "sort": "-title", "limit": 1}, headers=user_headers
        )
    ).json()
    assert body["total"] == 2
    assert body["limit"] == 1
    assert [item["title"] for item in body["results"]] == ["apple pie"]
    second = (
        await client.get(
            ITEMS,
            params={"q": "apple", "sort": "-title", "limit": 1, "offset": 1},
            headers=user_headers,
        )
    ).json()
    assert [item["title"] for item in second["results"]] == ["apple crumble"]


async def test_list_defaults_to_20_newest_first(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    for number in range(22):
        await create(client, user_headers, f"item {number:02d}")
    body = (await client.get(ITEMS, headers=user_headers)).json()
    assert body["limit"] == 20
    assert body["total"] == 22
    assert len(body["results"]) == 20
    assert body["results"][0]["title"] == "item 21"


@pytest.mark.parametrize(
    "params",
    [{"limit": 101}, {"limit": 0}, {"sort": "owner_id"}, {"sort": "title; DROP TABLE items"}],
)
async def test_list_parameters_are_validated(
    client: AsyncClient, user_headers: dict[str, str], params: dict[str, object]
) -> None:
    response = await client.get(ITEMS, params=params, headers=user_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


async def test_search_treats_wildcards_literally(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    await create(client, user_headers, "100% done")
    await create(client, user_headers, "plain")
    body = (await client.get(ITEMS, params={"q": "%"}, headers=user_headers)).json()
    assert [item["title"] for item in body["results"]] == ["100% done"]


async def test_read_update_delete_own_item(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    item = await create(client, user_headers, "draft")
    url = f"{ITEMS}/{item['id']}"
    assert (await client.get(url, headers=user_headers)).json()["title"] == "draft"
    updated = await client.patch(url, json={"description": "more"}, headers=user_headers)
    assert updated.status_code == 200
    assert updated.json()["title"] == "draft"
    assert updated.json()["description"] == "more"
    deleted = await client.delete(url, headers=user_headers)
    assert deleted.status_code == 204
    gone = await client.get(url, headers=user_headers)
    assert gone.status_code == 404
    assert_error(gone.json(), "NOT_FOUND")


@pytest.mark.parametrize(
    "payload", [{"title": None}, {"title": ""}, {"owner_id": str(uuid.uuid4())}]
)
async def test_update_item_rejects_bad_input(
    client: AsyncClient, user_headers: dict[str, str], payload: dict[str, object]
) -> None:
    item = await create(client, user_headers, "keep me")
    response = await client.patch(f"{ITEMS}/{item['id']}", json=payload, headers=user_headers)
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_another_users_item_is_404(
    client: AsyncClient,
    user_headers: dict[str, str],
    other_headers: dict[str, str],
    method: str,
) -> None:
    item = await create(client, other_headers, "private")
    url = f"{ITEMS}/{item['id']}"
    response = await client.request(
        method, url, json={"title": "hijacked"} if method == "PATCH" else None, headers=user_headers
    )
    assert response.status_code == 404
    assert_error(response.json(), "NOT_FOUND")
    still = (await client.get(url, headers=other_headers)).json()
    assert still["title"] == "private"


async def test_admin_can_change_any_item(
    client: AsyncClient, user_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    item = await create(client, user_headers, "needs moderation")
    response = await client.patch(
        f"{ITEMS}/{item['id']}", json={"title": "moderated"}, headers=admin_headers
    )
    assert response.status_code == 200
    assert response.json()["owner_id"] == item["owner_id"]
