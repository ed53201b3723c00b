from fastapi import APIRouter, Depends, status

from app.api.deps import AuthServiceDep, CurrentUser, LoginFormDep
from app.api.responses import error_responses
from app.core.rate_limit import auth_rate_limit
from app.schemas.auth import RefreshRequest, TokenPair
from app.schemas.users import UserCreate, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(409, 422, 429),
)
async def register(data: UserCreate, auth: AuthServiceDep) -> UserRead:
    """Create an account."""
    user = await auth.register(data)
    return UserRead.model_validate(user)


@router.post(
    "/login",
    # Per address first, then per target account (LoginFormDep): both must have room left.
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(401, 422, 429),
)
async def login(form: LoginFormDep, auth: AuthServiceDep) -> TokenPair:
    """Exchange email (as `username`) and password for an access and a refresh token."""
    return await auth.login(form.username, form.password)


@router.post("/refresh", responses=error_responses(401, 422, 429))
async def refresh(data: RefreshRequest, auth: AuthServiceDep) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    return await auth.refresh(data.refresh_token)


@router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 422, 429)
)
async def logout(data: RefreshRequest, auth: AuthServiceDep) -> None:
    """End the session the refresh token belongs to."""
    await auth.logout(data.refresh_token)


@router.post(
    "/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 429)
)
async def logout_all(user: CurrentUser, auth: AuthServiceDep) -> None:
    """End every session of the current user, including access tokens already issued."""
    await auth.logout_everywhere(user)
