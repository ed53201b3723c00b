"""Soft delete for models that mix in `SoftDelete` (`make resource ... soft_delete=yes`).

Deleting such a row sets `deleted_at`; every ORM query of the model then skips it through one
mechanism, not a filter each query must remember: a `do_orm_execute` hook adds
`with_loader_criteria(SoftDelete, deleted_at IS NULL)` to every statement, which reaches the
model wherever it appears (the main entity, joins, aliases, relationship and `session.get`
loads). Only a statement run with `INCLUDE_DELETED` sees deleted rows: the admin listing,
restore and the purge (app/repositories/base.py, `SoftDeleteRepository`).

The hook is registered when the first model mixes `SoftDelete` in, so a service without one
pays nothing for it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, with_loader_criteria

from app.db.base import UTCDateTime

# execution_options(**INCLUDE_DELETED): this one statement also sees soft-deleted rows.
INCLUDE_DELETED = {"include_deleted": True}


class SoftDelete:
    """A `deleted_at` column: NULL while the row is live, the deletion time after."""

    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not event.contains(Session, "do_orm_execute", _skip_deleted_rows):
            event.listen(Session, "do_orm_execute", _skip_deleted_rows)


def _skip_deleted_rows(state: ORMExecuteState) -> None:
    # Column and relationship loads inherit the criteria from the statement that loaded the row.
    if state.is_column_load or state.is_relationship_load:
        return
    if state.execution_options.get("include_deleted", False):
        return
    state.statement = state.statement.options(
        with_loader_criteria(SoftDelete, lambda cls: cls.deleted_at.is_(None), include_aliases=True)
    )


def soft_deleted_models(base: type[Any]) -> list[type[SoftDelete]]:
    """Every mapped model of `base` that soft-deletes, for the purge."""
    return sorted(
        (
            mapper.class_
            for mapper in base.registry.mappers
            if issubclass(mapper.class_, SoftDelete)
        ),
        key=lambda model: model.__name__,
    )
