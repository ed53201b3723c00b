"""Every model, imported so `Base.metadata` (and Alembic) sees all tables."""

{% if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}from app.models.attachments import Attachment
{% endif %}{% if cookiecutter.example_resource %}from app.models.items import Item
{% endif %}from app.models.refresh_tokens import RefreshToken
from app.models.user_tokens import TokenPurpose, UserToken
from app.models.users import Role, User

__all__ = [
    {% if cookiecutter.example_resource and cookiecutter.file_storage != "none" %}"Attachment",
    {% endif %}{% if cookiecutter.example_resource %}"Item",
    {% endif %}"RefreshToken",
    "Role",
    "TokenPurpose",
    "User",
    "UserToken",
]
