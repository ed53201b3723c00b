"""Sending email: one small interface, SMTP for real use, the console for development."""

import json
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from app.core.config import Settings

logger = logging.getLogger(__name__)
# The printed curl line's address: the shell's BASE (the README walkthrough sets it), else the
# default address of `make run`.
SHELL_BASE_URL = "${BASE:-http://127.0.0.1:8000}"


@dataclass(frozen=True, slots=True)
class ApiCall:
    """The API request a link in the email stands for (the frontend page would send it)."""

    path: str
    body: dict[str, str]


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    # Shown by the console sender only: in development no frontend serves the link.
    api_call: ApiCall | None = None


class EmailSender(Protocol):
    async def send(self, email: Email) -> None:
        """Hands the message over for delivery; raises if that failed (the caller may retry)."""


class SmtpEmailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, email: Email) -> None:
        settings = self.settings
        await aiosmtplib.send(
            self._message(email),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password.get_secret_value() or None,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            timeout=settings.smtp_timeout_seconds,
        )

    def _message(self, email: Email) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.email_from
        message["To"] = email.to
        message["Subject"] = email.subject
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        return message


class ConsoleEmailSender:
    """Logs the plain-text body, links included. Refused in production by Settings.

    The links point at the frontend (FRONTEND_URL), which development often does not have yet,
    so the log also carries the same step as one `curl` line to paste into a shell (the README's
    walkthrough sets BASE; without it, the default address of `make run`).
    """

    async def send(self, email: Email) -> None:
        logger.info("Email to %s: %s\n%s%s", email.to, email.subject, email.text, _curl(email))


def _curl(email: Email) -> str:
    if email.api_call is None:
        return ""
    body = json.dumps(email.api_call.body)
    return (
        "\nWithout a frontend, do the same through the API:\n"
        f'curl -sS -X POST "{SHELL_BASE_URL}{email.api_call.path}" '
        f"-H 'Content-Type: application/json' -d '{body}'\n"
    )


def build_email_sender(settings: Settings) -> EmailSender:
    if settings.email_backend == "smtp":
        return SmtpEmailSender(settings)
    return ConsoleEmailSender()
