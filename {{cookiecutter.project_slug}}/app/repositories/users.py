import uuid
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

{% if cookiecutter.database == "postgresql" and cookiecutter.tracing == "none" -%}
from app.db.primary_key_loader import PrimaryKeyLoader
{% endif -%}
from app.models.users import Role, User
from app.repositories.base import Repository, ResultPage, sort_clause

SORT_COLUMNS: dict[str, InstrumentedAttribute[Any]] = {
    "created_at": User.created_at,
    "email": User.email,
}
{%- if cookiecutter.database == "postgresql" and cookiecutter.tracing == "none" %}
USER_BY_ID = PrimaryKeyLoader(User)
{%- endif %}


class UserRepository(Repository[User]):
    model = User

    async def get_signed_in(self, id_: uuid.UUID) -> User | None:
        """The user an access token names, looked up on every authenticated request."""
{%- if cookiecutter.database == "postgresql" and cookiecutter.tracing == "none" %}
        # Through the driver, not the ORM's query path: see app/db/primary_key_loader.py.
        return await USER_BY_ID.get(self.session, id_)
{%- else %}
        return await self.get(id_)
{%- endif %}

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
