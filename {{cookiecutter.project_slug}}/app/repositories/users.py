import uuid
from typing import Any

from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.orm import InstrumentedAttribute

from app.models.users import Account, Principal, Role, User
from app.repositories.base import Repository, ResultPage, sort_clause

SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": User.created_at,
    "email": User.email,
}
# What authorization needs, as plain columns: no ORM object is built on every request. The
# statements are built once (PERFORMANCE.md); each call binds the id.
PRINCIPAL_COLUMNS = (User.id, User.role, User.is_active, User.is_verified, User.token_version)
PRINCIPAL_BY_ID = select(*PRINCIPAL_COLUMNS).where(User.id == bindparam("id"))
# Account's fields after Principal's, in its field order.
ACCOUNT_BY_ID = select(
    *PRINCIPAL_COLUMNS, User.email, User.full_name, User.created_at, User.updated_at
).where(User.id == bindparam("id"))


class UserRepository(Repository[User]):
    model = User

    async def get_principal(self, id_: uuid.UUID) -> Principal | None:
        """The account an access token names, looked up on every authenticated request."""
        row = (await self.session.execute(PRINCIPAL_BY_ID, {"id": id_})).first()
        return Principal(*row) if row is not None else None

    async def get_account(self, id_: uuid.UUID) -> Account | None:
        """The principal and the profile fields, in one statement: GET /users/me."""
        row = (await self.session.execute(ACCOUNT_BY_ID, {"id": id_})).first()
        return Account(*row) if row is not None else None

    async def get_for_update(self, id_: uuid.UUID) -> User | None:
        """The user, its row locked until the transaction ends: see end_all_sessions."""
        return await self.session.get(User, id_, with_for_update=True, populate_existing=True)

    async def get_by_email(self, email: str) -> User | None:
        return await self.get_by(User.email == email)

    async def search(
        self,
        *,
        email_contains: str | None,
        role: Role | None,
        is_active: bool | None,
        sort: str,
        limit: int,
        offset: int,
    ) -> ResultPage[User]:
        """Users matching every filter given; a None filter matches everyone."""
        conditions: list[ColumnElement[bool]] = []
        if email_contains:
            conditions.append(User.email.icontains(email_contains, autoescape=True))
        if role is not None:
            conditions.append(User.role == role)
        if is_active is not None:
            conditions.append(User.is_active.is_(is_active))
        return await self.list(
            conditions=conditions,
            order_by=[sort_clause(sort, SORT_COLUMNS), User.id],
            limit=limit,
            offset=offset,
        )
