import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import CurrentUser, ItemServiceDep, ReadingUser, ReadSessionDep, WriteSessionDep
from app.http.responses import error_responses
from app.schemas.items import ItemCreate, ItemListParams, ItemRead, ItemUpdate
from app.schemas.pagination import Page

router = APIRouter(prefix="/items", tags=["items"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 413, 422, 429, 503),
)
async def create_item(
    data: ItemCreate, user: CurrentUser, session: WriteSessionDep, items: ItemServiceDep
) -> ItemRead:
    """Create an item owned by the current user."""
    return ItemRead.model_validate(await items.create(session, user, data))


@router.get("", responses=error_responses(401, 422, 429, 503))
async def list_items(
    params: Annotated[ItemListParams, Query()],
    user: ReadingUser,
    session: ReadSessionDep,
    items: ItemServiceDep,
) -> Page[ItemRead]:
    """List your items (admins see every one), filtered and sorted."""
    return Page[ItemRead].model_validate(await items.list(session, user, params))


@router.get("/{item_id}", responses=error_responses(401, 404, 422, 429, 503))
async def read_item(
    item_id: uuid.UUID, user: ReadingUser, session: ReadSessionDep, items: ItemServiceDep
) -> ItemRead:
    """Return one of your items."""
    return await items.read(session, user, item_id)


@router.patch("/{item_id}", responses=error_responses(400, 401, 403, 404, 413, 422, 429, 503))
async def update_item(
    item_id: uuid.UUID,
    data: ItemUpdate,
    user: CurrentUser,
    session: WriteSessionDep,
    items: ItemServiceDep,
) -> ItemRead:
    """Change the fields sent of one of your items."""
    return ItemRead.model_validate(await items.update(session, user, item_id, data))


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 422, 429, 503),
)
async def delete_item(
    item_id: uuid.UUID, user: CurrentUser, session: WriteSessionDep, items: ItemServiceDep
) -> None:
    """Delete one of your items."""
    await items.delete(session, user, item_id)
