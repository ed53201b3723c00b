from fastapi import APIRouter, Depends, status

from app.api.deps import (
    AccountEmailDep,
    AccountServiceDep,
    AuthServiceDep,
    EmailJobsDep,
    EmailVerificationServiceDep,
    LoginFormDep,
    SignedInUser,
    WriteSessionDep,
)
from app.api.rate_limit import auth_rate_limit
from app.http.responses import error_responses
from app.schemas.auth import (
    Accepted,
    PasswordResetConfirm,
    RefreshRequest,
    TokenPair,
    UndoEmailChangeRequest,
    VerifyEmailRequest,
)
from app.schemas.users import UserCreate, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])
ACCEPTED = Accepted(message="If an account uses this address, an email is on its way.")


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 409, 413, 422, 429, 503),
)
async def register(data: UserCreate, auth: AuthServiceDep, jobs: EmailJobsDep) -> UserRead:
    """Create an account and mail it a verification link."""
    user = await auth.register(data)
    jobs.verification(user.email)
    return UserRead.model_validate(user)


@router.post(
    "/login",
    # Per address first, then per target account (LoginFormDep): both must have room left.
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 401, 413, 422, 429, 503),
)
async def login(form: LoginFormDep, auth: AuthServiceDep) -> TokenPair:
    """Exchange email (as `username`) and password for an access and a refresh token."""
    return await auth.login(form.username, form.password)


@router.post("/refresh", responses=error_responses(400, 401, 413, 422, 429, 503))
async def refresh(data: RefreshRequest, auth: AuthServiceDep) -> TokenPair:
    """Trade a refresh token for a new pair; the old refresh token stops working."""
    return await auth.refresh(data.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(400, 401, 413, 422, 429, 503),
)
async def logout(data: RefreshRequest, auth: AuthServiceDep) -> None:
    """End the session the refresh token belongs to."""
    await auth.logout(data.refresh_token)


@router.post(
    "/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401, 429, 503)
)
async def logout_all(user: SignedInUser, auth: AuthServiceDep) -> None:
    """End every session of the current user, including access tokens already issued."""
    await auth.logout_everywhere(user)


@router.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    # 429 per client address only; the cap per target address (AccountEmailDep) sends nothing
    # more but answers the same, so nobody can block or watch another person's emails.
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 413, 422, 429),
)
async def request_password_reset(target: AccountEmailDep, jobs: EmailJobsDep) -> Accepted:
    """Mail a password-reset link if an account uses this address; the answer never says."""
    if target.send:
        jobs.password_reset(target.address)
    return ACCEPTED


@router.post(
    "/password-reset/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 404, 413, 422, 429, 503),
)
async def confirm_password_reset(data: PasswordResetConfirm, accounts: AccountServiceDep) -> None:
    """Set a new password with a mailed token; every session of the account ends."""
    await accounts.reset_password(data.token, data.new_password)


@router.post(
    "/verify-email",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 404, 413, 422, 429, 503),
)
async def verify_email(
    data: VerifyEmailRequest, session: WriteSessionDep, verifications: EmailVerificationServiceDep
) -> None:
    """Confirm the account's email address with a mailed token."""
    await verifications.verify(session, data.token)


@router.post(
    "/email-change/undo",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 404, 409, 413, 422, 429, 503),
)
async def undo_email_change(data: UndoEmailChangeRequest, accounts: AccountServiceDep) -> None:
    """Put back the address an email change replaced (the link mailed to it); every session ends."""
    await accounts.undo_email_change(data.token)


@router.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(auth_rate_limit)],
    responses=error_responses(400, 413, 422, 429),
)
async def resend_verification(target: AccountEmailDep, jobs: EmailJobsDep) -> Accepted:
    """Mail a new verification link if an unverified account uses this address; the answer never says."""
    if target.send:  # capped per address like password-reset: the same answer, no email
        jobs.verification(target.address)
    return ACCEPTED
