import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import (
    AccountServiceDep,
    AdminUser,
    CurrentAccount,
    CurrentUser,
    EmailJobsDep,
    ReadSessionDep,
    UserServiceDep,
    WriteSessionDep,
)
from app.http.responses import error_responses
from app.schemas.pagination import Page
from app.schemas.users import UserListParams, UserRead, UserUpdateAdmin, UserUpdateMe

router = APIRouter(prefix="/users", tags=["users"])


@router.get("/me", responses=error_responses(401, 429, 503))
async def read_me(account: CurrentAccount) -> UserRead:
    """Return the current user."""
    return UserRead.model_validate(account)


@router.patch("/me", responses=error_responses(400, 401, 403, 409, 413, 422, 429, 503))
async def update_me(
    data: UserUpdateMe, user: CurrentUser, accounts: AccountServiceDep, jobs: EmailJobsDep
) -> UserRead:
    """Change your own name, email or password. A new email or password needs the current
    password and signs you out everywhere; the old address is mailed a link to undo the change."""
    updated = await accounts.update_me(user, data)
    if updated.notice is not None:
        jobs.email_change_notice(updated.notice.old_email, updated.notice.job_id)
    return UserRead.model_validate(updated.user)


@router.get("", responses=error_responses(401, 403, 422, 429, 503))
async def list_users(
    params: Annotated[UserListParams, Query()],
    _: AdminUser,
    session: ReadSessionDep,
    users: UserServiceDep,
) -> Page[UserRead]:
    """List users, filtered and sorted (admins only)."""
    return Page[UserRead].model_validate(await users.list(session, params))


@router.get("/{user_id}", responses=error_responses(401, 403, 404, 422, 429, 503))
async def read_user(
    user_id: uuid.UUID, _: AdminUser, session: ReadSessionDep, users: UserServiceDep
) -> UserRead:
    """Return one user (admins only)."""
    return UserRead.model_validate(await users.get(session, user_id))


@router.patch("/{user_id}", responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503))
async def update_user(
    user_id: uuid.UUID,
    data: UserUpdateAdmin,
    admin: AdminUser,
    session: WriteSessionDep,
    users: UserServiceDep,
) -> UserRead:
    """Change any user, including role and active flag (admins only)."""
    return UserRead.model_validate(await users.update(session, user_id, data, actor=admin))


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409, 422, 429, 503),
)
async def delete_user(
    user_id: uuid.UUID, admin: AdminUser, session: WriteSessionDep, users: UserServiceDep
) -> None:
    """Delete a user and everything they own (admins only)."""
    await users.delete(session, user_id, actor=admin)
