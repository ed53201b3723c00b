"""Items belong to their owner: another user's item is a 404 (its existence is not leaked),
ownership cannot be assigned, and list parameters refuse injection."""

import uuid

import pytest
from httpx import AsyncClient

from tests.security.attacks import assert_invalid_field, assert_refused
from tests.urls import ITEMS


@pytest.fixture
async def victim_item(client: AsyncClient, other_headers: dict[str, str]) -> dict[str, str]:
    response = await client.post(
        ITEMS, json={"title": "Private plans", "description": "secret"}, headers=other_headers
    )
    assert response.status_code == 201
    item: dict[str, str] = response.json()
    return item


async def test_reading_another_users_item_is_404(
    client: AsyncClient, user_headers: dict[str, str], victim_item: dict[str, str]
) -> None:
    response = await client.get(f"{ITEMS}/{victim_item['id']}", headers=user_headers)
    assert_refused(response, 404, "NOT_FOUND")
    missing = await client.get(f"{ITEMS}/{uuid.uuid4()}", headers=user_headers)
    assert response.json()["error"]["message"] == missing.json()["error"]["message"]


async def test_updating_another_users_item_is_404_and_changes_nothing(
    client: AsyncClient,
    user_headers: dict[str, str],
    other_headers: dict[str, str],
    victim_item: dict[str, str],
) -> None:
    url = f"{ITEMS}/{victim_item['id']}"
    response = await client.patch(url, json={"title": "Pwned"}, headers=user_headers)
    assert_refused(response, 404, "NOT_FOUND")
    assert (await client.get(url, headers=other_headers)).json()["title"] == "Private plans"


async def test_deleting_another_users_item_is_404_and_keeps_it(
    client: AsyncClient,
    user_headers: dict[str, str],
    other_headers: dict[str, str],
    victim_item: dict[str, str],
) -> None:
    url = f"{ITEMS}/{victim_item['id']}"
    assert_refused(await client.delete(url, headers=user_headers), 404, "NOT_FOUND")
    assert (await client.get(url, headers=other_headers)).status_code == 200


async def test_listing_never_shows_another_users_items(
    client: AsyncClient, user_headers: dict[str, str], victim_item: dict[str, str]
) -> None:
    response = await client.get(ITEMS, params={"q": "Private"}, headers=user_headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize("field", ["owner_id", "id", "created_at"])
async def test_create_refuses_server_owned_fields(
    client: AsyncClient, user_headers: dict[str, str], victim_item: dict[str, str], field: str
) -> None:
    value = victim_item["owner_id"] if field != "created_at" else "2000-01-01T00:00:00Z"
    payload = {"title": "Mine now", field: value}
    assert_invalid_field(await client.post(ITEMS, json=payload, headers=user_headers), field)


async def test_update_cannot_give_an_item_away(
    client: AsyncClient,
    user_headers: dict[str, str],
    victim_item: dict[str, str],
) -> None:
    own = (await client.post(ITEMS, json={"title": "Mine"}, headers=user_headers)).json()
    payload = {"owner_id": victim_item["owner_id"]}
    response = await client.patch(f"{ITEMS}/{own['id']}", json=payload, headers=user_headers)
    assert_invalid_field(response, "owner_id")


@pytest.mark.parametrize("injection", ["title; DROP TABLE items", "owner_id", "-description"])
async def test_item_sort_accepts_only_allow_listed_fields(
    client: AsyncClient, user_headers: dict[str, str], injection: str
) -> None:
    response = await client.get(ITEMS, params={"sort": injection}, headers=user_headers)
    assert_invalid_field(response, "sort")


async def test_sql_injection_in_the_item_search_matches_nothing(
    client: AsyncClient, user_headers: dict[str, str], victim_item: dict[str, str]
) -> None:
    """The user owns a row the injection would reveal if `q` reached the SQL as text."""
    own = await client.post(ITEMS, json={"title": "Groceries"}, headers=user_headers)
    assert own.status_code == 201
    found = await client.get(ITEMS, params={"q": "Groc"}, headers=user_headers)
    assert found.json()["total"] == 1  # the search itself works
    response = await client.get(ITEMS, params={"q": "' OR '1'='1"}, headers=user_headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"title": "ok", "description": "x" * 5001}, "description"),
        ({"title": "nul\x00byte"}, "title"),
    ],
    ids=["title", "description", "nul"],
)
async def test_item_fields_are_bounded(
    client: AsyncClient, user_headers: dict[str, str], payload: dict[str, str], field: str
) -> None:
    assert_invalid_field(await client.post(ITEMS, json=payload, headers=user_headers), field)
