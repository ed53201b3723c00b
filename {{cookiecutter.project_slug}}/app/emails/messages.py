"""Builds each account email from its two templates (`<name>.txt`, `<name>.html`).

Templates use `string.Template` placeholders (`$link`); values are HTML-escaped for the HTML body.
"""

import html
from functools import cache
from pathlib import Path
from string import Template
from urllib.parse import urlencode

from app.core.config import Settings
from app.emails.sender import ApiCall, Email

TEMPLATES = Path(__file__).parent / "templates"
# The API routes the email links stand for (app/api/v1/endpoints/auth.py); the console sender
# prints them for development, and tests/emails/test_sender.py holds them to the app's routes.
VERIFY_EMAIL_PATH = "/api/v1/auth/verify-email"
RESET_PASSWORD_PATH = "/api/v1/auth/password-reset/confirm"
UNDO_EMAIL_CHANGE_PATH = "/api/v1/auth/email-change/undo"


@cache
def _template(filename: str) -> Template:
    return Template((TEMPLATES / filename).read_text(encoding="utf-8"))


def render(name: str, *, to: str, subject: str, values: dict[str, str], api_call: ApiCall) -> Email:
    escaped = {key: html.escape(value) for key, value in values.items()}
    return Email(
        to=to,
        subject=subject,
        text=_template(f"{name}.txt").substitute(values),
        html=_template(f"{name}.html").substitute(escaped),
        api_call=api_call,
    )


def frontend_link(settings: Settings, page: str, token: str) -> str:
    return f"{settings.frontend_url.rstrip('/')}/{page}?{urlencode({'token': token})}"


def password_reset_email(settings: Settings, to: str, token: str) -> Email:
    return render(
        "password_reset",
        to=to,
        subject=f"Reset your {settings.project_name} password",
        values={
            "project": settings.project_name,
            "link": frontend_link(settings, "reset-password", token),
            "minutes": str(settings.password_reset_expire_minutes),
        },
        api_call=ApiCall(RESET_PASSWORD_PATH, {"token": token, "new_password": "<new password>"}),
    )


def email_change_notice(settings: Settings, to: str, token: str) -> Email:
    return render(
        "email_change_notice",
        to=to,
        subject=f"The email address of your {settings.project_name} account was changed",
        values={
            "project": settings.project_name,
            "link": frontend_link(settings, "undo-email-change", token),
            "hours": str(settings.email_change_undo_expire_hours),
        },
        api_call=ApiCall(UNDO_EMAIL_CHANGE_PATH, {"token": token}),
    )


def verification_email(settings: Settings, to: str, token: str) -> Email:
    return render(
        "email_verification",
        to=to,
        subject=f"Confirm your email address for {settings.project_name}",
        values={
            "project": settings.project_name,
            "link": frontend_link(settings, "verify-email", token),
            "hours": str(settings.email_verification_expire_hours),
        },
        api_call=ApiCall(VERIFY_EMAIL_PATH, {"token": token}),
    )
