"""How messages leave: email over SMTP, GOV.UK Notify (email and text), and a Teams or Slack
webhook. Each channel raises ``TemporaryFailure`` (try again later: server down, rate limited)
or ``PermanentFailure`` (never going to work: bad address, rejected) so that the outbox can retry
the one and record the other.

Each channel's ``prepare`` makes what it sends (an email) before ``send`` sends it, so that delivery
can do everything else it has to first, and nothing between the send and recording it.

Configuration problems (nothing configured, a bad URL or key, a refused login or sender) are
temporary: the message waits, with the reason as its error, until someone fixes the settings,
rather than being thrown away. A channel that cannot reach its server at all says so for the rest
of the run at once, rather than every message waiting out its own timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlparse

import requests

from store.canvass.report import attachments as canvass_attachments
from store.db import session_scope
from store.models import Notification
from timetables.settings import Settings


class TemporaryFailure(Exception):
    """Worth trying again later."""


class PermanentFailure(Exception):
    """Will not work however often it is tried."""


@dataclass(frozen=True)
class Attachment:
    """A file an email carries."""

    filename: str
    content_type: str  # e.g. image/png
    data: bytes


def _canvass_report(message: Notification) -> list[Attachment]:
    """The weekly canvass report's chart, kept in the store by the message's dedupe key."""
    with session_scope() as session:
        found = canvass_attachments(session, message.dedupe_key)
        return [Attachment(a.filename, a.content_type, a.data) for a in found]


# The kinds of message that carry files, and where each finds them. The files are read from the
# store, where the feature that queued the message left them: delivery reads the store and never
# the feature's own module (tasks.canvass queues through the outbox, so importing it here would
# tie the two together both ways). Only email by SMTP carries files; a message sent another way
# says in its text where the file is.
ATTACHMENT_SOURCES: dict[str, Callable[[Notification], list[Attachment]]] = {
    "canvass-report": _canvass_report,
}


def attachments_for(message: Notification) -> list[Attachment]:
    source = ATTACHMENT_SOURCES.get(message.kind)
    if source is None:
        return []
    try:
        return list(source(message))
    except Exception as exc:  # the store is down, say: try again later
        raise TemporaryFailure(f"cannot read the files {message.dedupe_key} carries: {exc}") from exc


def message_id(dedupe_key: str) -> str:
    """The same Message-ID every time a message is sent, so mail systems can spot a repeat."""
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    return f"<{digest}@pollflow>"


class SmtpChannel:
    """Email over SMTP; one connection reused for a whole batch."""

    def __init__(self, url: str, mail_from: str, timeout: float = 20):
        parsed = urlparse(url)
        if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
            raise TemporaryFailure(f"POLLFLOW_SMTP_URL '{url}' is not smtp://[user:password@]host[:port]")
        self.host = parsed.hostname
        self.port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.ssl = parsed.scheme == "smtps"
        self.starttls = parse_qs(parsed.query).get("starttls", ["false"])[0].lower() == "true"
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.mail_from = mail_from
        self.timeout = timeout
        self._connection: smtplib.SMTP | None = None
        self._down: str | None = None  # why the server cannot be used, for the rest of the run

    def _connect(self) -> smtplib.SMTP:
        if self._down:
            raise TemporaryFailure(self._down)
        if self._connection is None:
            connection = None
            try:
                factory = smtplib.SMTP_SSL if self.ssl else smtplib.SMTP
                connection = factory(self.host, self.port, timeout=self.timeout)
                if self.starttls:
                    connection.starttls()
                if self.user:
                    connection.login(self.user, self.password or "")
            except smtplib.SMTPAuthenticationError as exc:
                reason = f"{exc.smtp_code} {exc.smtp_error!r}"
                self._down = f"SMTP login refused (check POLLFLOW_SMTP_URL): {reason}"
            except (OSError, smtplib.SMTPException) as exc:
                self._down = f"cannot connect to SMTP {self.host}:{self.port}: {exc}"
            if self._down:
                if connection is not None:
                    with contextlib.suppress(OSError, smtplib.SMTPException):
                        connection.close()
                raise TemporaryFailure(self._down)
            self._connection = connection
        return self._connection

    def prepare(self, message: Notification) -> EmailMessage:
        """The email, made before anything is sent (``send`` takes it)."""
        email = EmailMessage()
        try:
            email["From"] = self.mail_from
            email["To"] = message.recipient
            # A header is one line: a line break in a subject would end the headers (or fail).
            email["Subject"] = re.sub(r"\s*[\r\n]+\s*", " ", message.subject).strip()
            email["Date"] = formatdate(localtime=True)
            email["Message-ID"] = message_id(message.dedupe_key)
            email["X-Pollflow-Kind"] = message.kind
            email.set_content(message.body)
        except (ValueError, TypeError, IndexError) as exc:
            raise PermanentFailure(f"cannot make an email of it: {exc}") from exc
        for attachment in attachments_for(message):
            maintype, _, subtype = attachment.content_type.partition("/")
            email.add_attachment(
                attachment.data,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=attachment.filename,
            )
        return email

    def send(self, message: Notification, prepared: EmailMessage | None = None) -> str | None:
        email = prepared if prepared is not None else self.prepare(message)
        connection = self._connect()
        try:
            connection.send_message(email)
        except smtplib.SMTPSenderRefused as exc:
            # The server will take nothing from this sender: settings, not this message.
            self.close()
            reason = f"{exc.smtp_code} {exc.smtp_error!r}"
            self._down = f"SMTP refused the sender (check POLLFLOW_MAIL_FROM and the login): {reason}"
            raise TemporaryFailure(self._down) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentFailure(f"the SMTP server cannot take this message: {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            self._raise_for(min(codes), f"recipient refused: {exc.recipients}")
        except smtplib.SMTPResponseException as exc:
            self._raise_for(exc.smtp_code, f"{exc.smtp_code} {exc.smtp_error!r}")
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise TemporaryFailure(f"SMTP connection failed: {exc}") from exc
        return None

    def _raise_for(self, code: int, text: str) -> None:
        if code >= 500:
            raise PermanentFailure(text)
        self.close()
        raise TemporaryFailure(text)

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._connection.quit()
            self._connection = None


class NotifyChannel:
    """GOV.UK Notify, through its official client: email, and text messages to phones."""

    def __init__(self, settings: Settings):
        from notifications_python_client.notifications import NotificationsAPIClient

        try:
            self.client = NotificationsAPIClient(settings.notify_api_key, base_url=settings.notify_base_url)
        except Exception as exc:  # the client validates the key's shape
            raise TemporaryFailure(f"POLLFLOW_NOTIFY_API_KEY is not a Notify API key: {exc}") from exc
        self.email_template = settings.notify_email_template
        self.sms_template = settings.notify_sms_template
        self._down: str | None = None  # why Notify cannot be reached, for the rest of the run

    def already_sent(self, reference: str) -> str | None:
        """Notify's id for a message sent with this reference, if any (after a crash)."""
        if self._down:
            raise TemporaryFailure(self._down)
        try:
            found = self.client.get_all_notifications(reference=reference)
        except Exception as exc:
            raise TemporaryFailure(f"cannot ask Notify about {reference}: {exc}") from exc
        notifications = found.get("notifications", [])
        return notifications[0]["id"] if notifications else None

    def prepare(self, message: Notification) -> None:
        return None  # Notify makes the message from its template

    def send(self, message: Notification, prepared: None = None) -> str | None:
        from notifications_python_client.errors import APIError, HTTPError

        if self._down:
            raise TemporaryFailure(self._down)
        personalisation = {"subject": message.subject, "body": message.body}
        try:
            if message.channel == "sms":
                if not self.sms_template:
                    raise TemporaryFailure("POLLFLOW_NOTIFY_SMS_TEMPLATE is not set")
                response = self.client.send_sms_notification(
                    phone_number=message.recipient,
                    template_id=self.sms_template,
                    personalisation=personalisation,
                    reference=message.dedupe_key,
                )
            else:
                if not self.email_template:
                    raise TemporaryFailure("POLLFLOW_NOTIFY_EMAIL_TEMPLATE is not set")
                response = self.client.send_email_notification(
                    email_address=message.recipient,
                    template_id=self.email_template,
                    personalisation=personalisation,
                    reference=message.dedupe_key,
                )
        except HTTPError as exc:
            text = f"Notify {exc.status_code}: {exc.message}"
            if exc.response is None:  # no answer at all: Notify is down or unreachable
                self._down = f"cannot reach Notify: {exc.__cause__ or text}"
                raise TemporaryFailure(self._down) from exc
            if exc.status_code in (401, 403):
                raise TemporaryFailure(f"{text} (check POLLFLOW_NOTIFY_API_KEY and the clock)") from exc
            if exc.status_code in (408, 429) or exc.status_code >= 500:
                raise TemporaryFailure(text) from exc
            raise PermanentFailure(text) from exc
        except APIError as exc:  # an answer that is not JSON: perhaps sent, checked on the retry
            raise TemporaryFailure(f"Notify answered oddly: {exc}") from exc
        except (OSError, requests.RequestException) as exc:
            raise TemporaryFailure(f"cannot reach Notify: {exc}") from exc
        return response.get("id")

    def close(self) -> None:
        pass


def _is_url(recipient: str) -> bool:
    parts = urlparse(recipient)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _without_key(text: str, url: str) -> str:
    """``text`` (a connection error, which quotes the address) without the webhook's path and
    query: they are the key to its channel (Slack's in the path, Teams workflows' in the query)."""
    parts = urlparse(url)
    text = text.replace(url, f"{parts.scheme}://{parts.netloc}/…")
    secret = parts.path + (f"?{parts.query}" if parts.query else "")
    return text.replace(secret, "/…") if len(secret) > 1 else text


class WebhookChannel:
    """Teams or Slack incoming webhooks (both accept {"text": ...}): the team's, for a message to
    "webhook", or a person's own, for a message whose recipient is its address. One session for
    them all, which keeps a connection open to each host for the run."""

    def __init__(self, url: str | None, timeout: float = 10):
        self.url = url  # the team's, POLLFLOW_WEBHOOK_URL
        self.timeout = timeout
        self.session = requests.Session()

    def prepare(self, message: Notification) -> None:
        return None

    def send(self, message: Notification, prepared: None = None) -> str | None:
        own = _is_url(message.recipient)
        url = message.recipient if own else self.url
        if not url:
            raise TemporaryFailure("no webhook configured (POLLFLOW_WEBHOOK_URL)")
        # Errors are kept with the message and shown in reports: they name the webhook's host only.
        host = urlparse(url).hostname
        which = f"their own webhook at {host}" if own else f"the team's webhook at {host}"
        try:
            response = self.session.post(
                url,
                json={"text": f"{message.subject}\n\n{message.body}"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TemporaryFailure(f"{which} is unreachable: {_without_key(str(exc), url)}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TemporaryFailure(f"{which} answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentFailure(f"{which} refused the message: {response.status_code}")
        return None

    def close(self) -> None:
        self.session.close()


class Channels:
    """The channel for each message, chosen by settings: Notify when a key is set, else SMTP."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._open: dict[str, object] = {}

    def _get(self, name: str):
        if name not in self._open:
            s = self.settings
            if name == "notify":
                self._open[name] = NotifyChannel(s)
            elif name == "smtp":
                self._open[name] = SmtpChannel(s.smtp_url, s.mail_from)
            else:
                self._open[name] = WebhookChannel(s.webhook_url)
        return self._open[name]

    def route(self, message: Notification):
        s = self.settings
        if message.channel not in ("email", "sms", "webhook"):
            raise PermanentFailure(f"no such channel: {message.channel!r} (email, sms or webhook)")
        if message.channel == "webhook":
            # To a person's own webhook (its address the recipient), or else to the team's.
            if not s.webhook_url and not _is_url(message.recipient):
                raise TemporaryFailure("no webhook configured (POLLFLOW_WEBHOOK_URL)")
            return self._get("webhook")
        if message.channel == "sms" or s.notify_api_key:
            if not s.notify_api_key:
                raise TemporaryFailure("text messages need GOV.UK Notify (POLLFLOW_NOTIFY_API_KEY)")
            return self._get("notify")
        if s.smtp_url:
            return self._get("smtp")
        raise TemporaryFailure(
            "no way to send email is configured: set POLLFLOW_SMTP_URL or POLLFLOW_NOTIFY_API_KEY"
        )

    def close(self) -> None:
        for channel in self._open.values():
            channel.close()
        self._open.clear()
