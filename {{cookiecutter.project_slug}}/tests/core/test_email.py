import logging

import pytest

from app.core.config import Settings
from app.core.email import ConsoleEmailSender, SmtpEmailSender, build_email_sender
from app.emails.messages import password_reset_email, verification_email


def test_the_backend_setting_picks_the_sender(settings: Settings) -> None:
    assert isinstance(build_email_sender(settings), SmtpEmailSender)
    console = settings.model_copy(update={"email_backend": "console"})
    assert isinstance(build_email_sender(console), ConsoleEmailSender)


async def test_console_sender_logs_the_text_with_its_link(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    email = verification_email(settings, "ada@example.com", "tok-123")
    with caplog.at_level(logging.INFO, logger="app.core.email"):
        await ConsoleEmailSender().send(email)
    assert "https://app.example.com/verify-email?token=tok-123" in caplog.text


def test_values_are_escaped_in_html_but_not_in_text(settings: Settings) -> None:
    named = settings.model_copy(update={"project_name": "R&D <Shop>"})
    email = password_reset_email(named, "ada@example.com", "abc")
    assert "R&D <Shop>" in email.text
    assert "R&amp;D &lt;Shop&gt;" in email.html
    assert "<Shop>" not in email.html
