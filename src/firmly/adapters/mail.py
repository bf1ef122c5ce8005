"""Email over SMTP: one connection kept open across a batch, STARTTLS and login when configured.

FIRMLY_SMTP_URL: smtp://[user:password@]host[:port][?starttls=true] or smtps://… for TLS from the start.
The timeout is one message's in all (connecting, every command and reply), not each step's: the worker's
claim on a message must outlast its send.
"""

from __future__ import annotations

import contextlib
import math
import smtplib
import ssl
import time
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, make_msgid
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from firmly import redact
from firmly.domain.errors import FirmlyError, Undelivered

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class MailError(Undelivered):
    """A message the SMTP server did not accept; `permanent` when retrying cannot help (a refused recipient)."""


class _Timed(smtplib.SMTP):
    """smtplib with one deadline: each step waits only for what is left of it, not for the whole timeout again."""

    deadline = math.inf

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("sending took longer than FIRMLY_SEND_TIMEOUT allows")
        return left

    def send(self, s: ReadableBuffer | str) -> None:
        if self.sock is not None:
            self.sock.settimeout(self._left())
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        if self.sock is not None:
            self.sock.settimeout(self._left())
        return super().getreply()


class _TimedSSL(_Timed, smtplib.SMTP_SSL):
    pass


class SmtpSender:
    def __init__(self, url: str, sender: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise FirmlyError("FIRMLY_SMTP_URL must look like smtp://host:587?starttls=true (with user:password@ "
                              f"before the host to log in) or smtps://…, got {redact.url(url)!r}")
        self.host, self.tls = parts.hostname, parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in ("1", "true", "yes")
        self.sender, self.timeout = sender, timeout
        self._conn: _Timed | None = None

    def _connect(self, deadline: float) -> smtplib.SMTP:
        if self._conn is not None:
            self._conn.deadline = deadline
        else:
            context = ssl.create_default_context()
            left = max(deadline - time.monotonic(), 0.001)
            conn: _Timed = _TimedSSL(timeout=left, context=context) if self.tls else _Timed(timeout=left)
            conn.deadline = deadline
            try:
                conn.connect(self.host, self.port)
                if self.starttls:
                    conn.starttls(context=context)
                if self.user:
                    conn.login(self.user, self.password or "")
            except BaseException:
                conn.close()  # a connection that failed half-way is closed here: nothing else holds it
                raise
            self._conn = conn
        return self._conn

    def send(self, to: str, subject: str, body: str, *, from_name: str = "", reply_to: str | None = None,
             message_id: str = "", attachments: tuple[tuple[str, bytes, str], ...] = (),
             from_addr: str | None = None) -> None:
        """One message; `from_addr` (one of the workspace's senders) replaces the configured sender."""
        # The compat32 classes: the modern EmailMessage re-parses and re-folds every header, which took half
        # the worker's time per message; these build the same MIME for a fraction of it.
        text = MIMEText(body, "plain", "utf-8")
        msg: Message = text
        if attachments:
            msg = MIMEMultipart()
            msg.attach(text)
            for filename, data, mime in attachments:
                maintype, _, subtype = mime.partition("/")
                part = MIMEApplication(data, _subtype=subtype) if maintype == "application" else MIMEText(
                    data.decode("utf-8", "replace"), subtype)
                part.add_header("Content-Disposition", "attachment", filename=filename)
                msg.attach(part)
        sender = from_addr or self.sender
        msg["From"] = formataddr((from_name, sender)) if from_name else sender  # encodes a Cyrillic name
        msg["To"] = to
        msg["Subject"] = Header(subject, "utf-8")  # type: ignore[assignment]  # compat32 folds a Header itself
        # a stable Message-ID: a message resent after a crash can be recognised as the same one
        msg["Message-ID"] = f"<{message_id}@firmly>" if message_id else make_msgid(domain="firmly")
        if reply_to:
            msg["Reply-To"] = reply_to
        deadline = time.monotonic() + self.timeout
        try:
            try:
                self._connect(deadline).send_message(msg)
            except smtplib.SMTPServerDisconnected:  # an idle connection the server closed: open a new one once
                self._conn = None
                self._connect(deadline).send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            # 4xx (greylisting, a full mailbox for now) is worth retrying; only 5xx for every recipient is final
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(f"recipient refused: {exc.recipients}", permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise MailError(f"{type(exc).__name__}: {exc}", permanent=exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise MailError(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.deadline = time.monotonic() + min(self.timeout, 1.0)  # a polite QUIT, but not a long wait for it
            with contextlib.suppress(smtplib.SMTPException, OSError):  # closing a broken connection may fail too
                conn.quit()
            conn.close()
