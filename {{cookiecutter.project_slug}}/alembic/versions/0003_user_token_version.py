"""user token version

Revision ID: 0003
Revises: {% if cookiecutter.example_resource %}0002{% else %}0001{% endif %}
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "{% if cookiecutter.example_resource %}0002{% else %}0001{% endif %}"{# 0002 (items) exists only with the example resource #}
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every user starts at version 0; access tokens carry it as their `ver` claim, and a logout-all,
    # password change or deactivation bumps it so tokens issued before stop working.
    op.add_column(
        "users",
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("users", "token_version")
