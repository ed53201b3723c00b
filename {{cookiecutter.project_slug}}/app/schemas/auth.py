from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.security import MAX_TOKEN_LENGTH
from app.schemas.inputs import InputModel
from app.schemas.users import Email, Password

# Login refuses junk early but still answers 401 (not 422) to any password a person might type;
# anything over bcrypt's 72 bytes simply never matches.
MAX_LOGIN_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 320


class LoginForm(InputModel):
    """The OAuth2 password-flow form. Other form fields (grant_type, scope ...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    username: str = Field(
        min_length=1,
        max_length=MAX_EMAIL_LENGTH,
        description="Your email address.",
        examples=["ada@example.com"],
    )
    password: str = Field(
        min_length=1,
        max_length=MAX_LOGIN_PASSWORD_LENGTH,
        repr=False,
        json_schema_extra={"format": "password"},
    )


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])


class RefreshRequest(InputModel):
    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)


class AccountEmailRequest(InputModel):
    """Asks for an account email (reset link, verification link) to be sent to this address."""

    email: Email


class PasswordResetConfirm(InputModel):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, repr=False)
    new_password: Password = Field(repr=False)


class VerifyEmailRequest(InputModel):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, repr=False)


class UndoEmailChangeRequest(InputModel):
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH, repr=False)


class Accepted(BaseModel):
    """The same answer whether or not an account uses the address: nothing to enumerate."""

    message: str = Field(examples=["If an account uses this address, an email is on its way."])
