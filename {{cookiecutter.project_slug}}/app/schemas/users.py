"""User shapes. Inputs never carry id, role or is_active unless an admin sends them."""

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, model_validator

from app.core.security import MAX_PASSWORD_BYTES
from app.models.users import Role
from app.schemas.inputs import InputModel, PatchModel
from app.schemas.pagination import PageParams

MIN_PASSWORD_LENGTH = 8


def _password_fits_bcrypt(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if len(value.encode()) > MAX_PASSWORD_BYTES:
        raise ValueError(f"must be at most {MAX_PASSWORD_BYTES} bytes when UTF-8 encoded")
    return value


def _normalise_email(value: str) -> str:
    return value.strip().lower()


Password = Annotated[
    str,
    Field(
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_BYTES,
        examples=["correct horse battery"],
    ),
    AfterValidator(_password_fits_bcrypt),
]
Email = Annotated[
    EmailStr, Field(max_length=320, examples=["ada@example.com"]), AfterValidator(_normalise_email)
]
FullName = Annotated[str, Field(max_length=200, examples=["Ada Lovelace"])]


class UserCreate(InputModel):
    email: Email
    # repr=False: a logged model must not carry the password with it.
    password: Password = Field(repr=False)
    full_name: FullName = ""


class UserUpdateMe(PatchModel):
    """What a user may change about themselves. A new password or email needs the current
    password: an access token alone (perhaps a stolen one) must not take over the account."""

    not_nullable = frozenset({"email", "full_name", "password"})

    email: Email | None = None
    full_name: FullName | None = None
    password: Password | None = Field(default=None, repr=False)
    current_password: str | None = Field(default=None, max_length=MAX_PASSWORD_BYTES, repr=False)

    @model_validator(mode="after")
    def _current_password_with_new(self) -> Self:
        if (self.password is not None or self.email is not None) and not self.current_password:
            raise ValueError("current_password is required to change the password or email")
        return self


class UserUpdateAdmin(PatchModel):
    """What an admin may change about any user."""

    not_nullable = frozenset({"email", "full_name", "role", "is_active"})

    email: Email | None = None
    full_name: FullName | None = None
    role: Role | None = None
    is_active: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime


UserSort = Literal["created_at", "-created_at", "email", "-email"]


class UserListParams(PageParams):
    email: str | None = Field(
        default=None, max_length=320, description="Part of the email, any case."
    )
    role: Role | None = None
    is_active: bool | None = None
    sort: UserSort = "-created_at"
