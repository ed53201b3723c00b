"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1), keeping what it receives."""

import asyncio
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

LINK = re.compile(r"https?://\S+")
# How long stopping waits for the server to finish with its connections.
SETTLE_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """Messages received so far. `refuse_next` turns down that many messages; `delay_seconds`
    makes each delivery take that long (a slow mail server)."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse_next: int = 0
    delay_seconds: float = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(self.delay_seconds)
        with self.lock:
            if self.refuse_next > 0:
                self.refuse_next -= 1
                return "451 Try again later"
            raw = envelope.original_content or b""
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(message)
        return "250 OK"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.refuse_next = 0
            self.delay_seconds = 0

    def sent_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [message for message in self.messages if message["To"] == address]

    def link_token(self, address: str, page: str) -> str:
        """Follows the link in the latest email to `address` for `page`: returns its token."""
        message = self.sent_to(address)[-1]
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        links = [urlsplit(url) for url in LINK.findall(body.get_content())]
        (link,) = [url for url in links if url.path.endswith(f"/{page}")]
        return parse_qs(link.query)["token"][0]


@dataclass(frozen=True)
class Authenticator:
    """aiosmtpd's AUTH check: one user name and password."""

    user: str
    password: str

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        given = (data.login, data.password) if isinstance(data, LoginPassword) else None
        success = given == (self.user.encode(), self.password.encode())
        # handled=False: aiosmtpd answers (235 or 535) itself; True would leave the client waiting.
        return AuthResult(success=success, handled=False)


class MailServer:
    """`tls="starttls"` refuses mail until the client upgrades; `tls="tls"` speaks TLS from the
    first byte (SMTPS). Both present the certificate `context` holds. With `login`, mail is
    accepted only after AUTH with that user name and password."""

    def __init__(
        self,
        *,
        tls: Literal["none", "starttls", "tls"] = "none",
        context: ssl.SSLContext | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.tls = tls
        options: dict[str, Any] = {}
        if tls == "starttls":
            options = {"tls_context": context, "require_starttls": True}
        elif tls == "tls":
            options = {"ssl_context": context}
        if login is not None:
            options |= {"authenticator": Authenticator(*login), "auth_required": True}
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> "MailServer":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # A handler still closing a connection (a client that just refused the certificate)
        # when the loop stops would leave its socket to the garbage collector: a ResourceWarning
        # in whichever test runs then.
        settled = asyncio.run_coroutine_threadsafe(_settle(), self.controller.loop)
        try:
            settled.result(timeout=SETTLE_SECONDS)
        except TimeoutError:
            settled.cancel()  # a client still connected: stop anyway, as before
        self.controller.stop()


async def _settle() -> None:
    """Returns once the connections being handled are done and their sockets let go."""
    current = asyncio.current_task()
    handlers = [task for task in asyncio.all_tasks() if task is not current]
    await asyncio.gather(*handlers, return_exceptions=True)
    await asyncio.sleep(0)  # the transports' connection_lost callbacks, scheduled as they closed
