import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import aiosmtplib
import pytest
import trustme
from fastapi import FastAPI
from pydantic import SecretStr

from app.core.config import Settings
from app.emails.messages import email_change_notice, password_reset_email, verification_email
from app.emails.sender import ConsoleEmailSender, SmtpEmailSender, build_email_sender
from tests.mail import MailServer


def test_the_backend_setting_picks_the_sender(settings: Settings) -> None:
    assert isinstance(build_email_sender(settings), SmtpEmailSender)
    console = settings.model_copy(update={"email_backend": "console"})
    assert isinstance(build_email_sender(console), ConsoleEmailSender)


async def test_console_sender_logs_the_text_with_its_link(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    email = verification_email(settings, "ada@example.com", "tok-123")
    with caplog.at_level(logging.INFO, logger="app.emails.sender"):
        await ConsoleEmailSender().send(email)
    assert "https://app.example.com/verify-email?token=tok-123" in caplog.text


async def test_console_sender_prints_the_step_as_one_curl_line(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Development has no frontend for the link: the README walkthrough pastes this line."""
    email = verification_email(settings, "ada@example.com", "tok-123")
    with caplog.at_level(logging.INFO, logger="app.emails.sender"):
        await ConsoleEmailSender().send(email)
    assert (
        """curl -sS -X POST "${BASE:-http://127.0.0.1:8000}/api/v1/auth/verify-email" """
        """-H 'Content-Type: application/json' -d '{"token": "tok-123"}'"""
    ) in caplog.text.splitlines()


def test_each_emails_api_call_is_a_documented_route(settings: Settings, app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    emails = [
        verification_email(settings, "ada@example.com", "tok"),
        password_reset_email(settings, "ada@example.com", "tok"),
        email_change_notice(settings, "ada@example.com", "tok"),
    ]
    for email in emails:
        assert email.api_call is not None
        operation = paths[email.api_call.path]["post"]
        schema_name = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        fields = app.openapi()["components"]["schemas"][schema_name.split("/")[-1]]["properties"]
        assert set(email.api_call.body) == set(fields)


def test_values_are_escaped_in_html_but_not_in_text(settings: Settings) -> None:
    named = settings.model_copy(update={"project_name": "R&D <Shop>"})
    email = password_reset_email(named, "ada@example.com", "abc")
    assert "R&D <Shop>" in email.text
    assert "R&amp;D &lt;Shop&gt;" in email.html
    assert "<Shop>" not in email.html


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(authority: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The system's trust store, as OpenSSL reads it, is this test's certificate authority."""
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))


def certificate_for_localhost(authority: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request: pytest.FixtureRequest, authority: trustme.CA) -> Iterator[MailServer]:
    """A mail server that only accepts mail over TLS, with a certificate for 127.0.0.1."""
    with MailServer(tls=request.param, context=certificate_for_localhost(authority)) as server:
        yield server


def relay_settings(settings: Settings, server: MailServer) -> Settings:
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_tls": server.tls}
    )


@pytest.mark.usefixtures("trusted")
async def test_mail_goes_through_tls_to_a_server_the_system_trusts(
    settings: Settings, tls_server: MailServer
) -> None:
    sender = SmtpEmailSender(relay_settings(settings, tls_server))
    await sender.send(verification_email(settings, "ada@example.com", "tok-tls"))
    assert len(tls_server.mailbox.sent_to("ada@example.com")) == 1


async def test_mail_is_never_sent_to_a_server_whose_certificate_is_untrusted(
    settings: Settings, tls_server: MailServer
) -> None:
    sender = SmtpEmailSender(relay_settings(settings, tls_server))
    # SMTPS fails the connect (SMTPConnectError); STARTTLS lets the ssl error itself through.
    with pytest.raises((aiosmtplib.SMTPConnectError, ssl.SSLCertVerificationError)):
        await sender.send(verification_email(settings, "ada@example.com", "tok-tls"))
    assert tls_server.mailbox.sent_to("ada@example.com") == []


@pytest.mark.usefixtures("trusted")
@pytest.mark.parametrize(("password", "accepted"), [("relay-pass", True), ("wrong-pass", False)])
async def test_the_relay_login_is_sent_over_tls_and_checked(
    settings: Settings, authority: trustme.CA, password: str, accepted: bool
) -> None:
    context = certificate_for_localhost(authority)
    with MailServer(tls="starttls", context=context, login=("mailer", "relay-pass")) as server:
        relay = relay_settings(settings, server).model_copy(
            update={"smtp_user": "mailer", "smtp_password": SecretStr(password)}
        )
        email = verification_email(settings, "ada@example.com", "tok-auth")
        if accepted:
            await SmtpEmailSender(relay).send(email)
        else:
            with pytest.raises(aiosmtplib.SMTPAuthenticationError):
                await SmtpEmailSender(relay).send(email)
        assert len(server.mailbox.sent_to("ada@example.com")) == int(accepted)
