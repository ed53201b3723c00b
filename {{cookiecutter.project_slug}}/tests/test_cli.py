import pytest

from app.cli import create_superuser
from app.core.config import Settings


async def test_superuser_needs_a_password(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await create_superuser(settings.model_copy(update={"first_superuser_password": ""})) == 1
    assert "FIRST_SUPERUSER_PASSWORD" in capsys.readouterr().err
