"""pollflow's settings: this module is the only reader of the environment (a test checks it).
Every setting has a default that works on a laptop.

- POLLFLOW_HOME (~/.pollflow): the SQLite store, refreshed bank holidays, Prefect's home.
- POLLFLOW_DATABASE_URL (sqlite:///$POLLFLOW_HOME/pollflow.db): postgresql://... for a server.
- POLLFLOW_SMTP_URL: smtp://[user:password@]host:port[?starttls=true] to send email.
- POLLFLOW_MAIL_FROM (pollflow <pollflow@localhost>): the From: of emails.
- POLLFLOW_NOTIFY_API_KEY: a GOV.UK Notify API key; email and texts then go through Notify.
- POLLFLOW_NOTIFY_BASE_URL (Notify's own): where Notify's API is (tests use a local server).
- POLLFLOW_NOTIFY_EMAIL_TEMPLATE: a Notify email template with ((subject)) and ((body)).
- POLLFLOW_NOTIFY_SMS_TEMPLATE: a Notify text message template with ((body)).
- POLLFLOW_WEBHOOK_URL: a Teams or Slack incoming webhook for team-wide messages.
- POLLFLOW_SECRET_KEY (generated once in POLLFLOW_HOME): signs links, encrypts bank details.
- POLLFLOW_DELIVERY_LEASE_SECONDS (300): how long a claimed message may stay unsent before
  another run takes it over (keep it a minute or more: one send may take 20-30 seconds).
- POLLFLOW_PUBLIC_URL (http://127.0.0.1:8080): the address people reach `pollflow web` at, for
  the links in messages (calendar feeds, staff answers and letters, canvass reports).
- POLLFLOW_ALLOW_LOCAL_LINKS=1: a training or test machine, where links to this machine are
  meant (otherwise nothing goes to temporary staff while links point at a loopback address).
- POLLFLOW_BANK_HOLIDAYS_URL (GOV.UK's): where `pollflow holidays refresh` fetches from.
- POLLFLOW_STAFFING_CONFIG, POLLFLOW_FEES_CONFIG, POLLFLOW_ALERTS_CONFIG: a council's own
  staffing ratios, fees and alert policy laid over config/staffing.yaml, config/fees.yaml and
  config/alerts.yaml (or the file of that name in POLLFLOW_HOME).
- POLLFLOW_DOCUMENTS_DIR ($POLLFLOW_HOME/published): where published notices are written.
- POLLFLOW_DOCUMENTS_WEBHOOK_URL, POLLFLOW_DOCUMENTS_WEBHOOK_SECRET: where published notices are
  announced (the council's website), with a signature.
- POLLFLOW_DOCUMENT_TEMPLATES: a folder of the council's own notice templates, searched first.
- POLLFLOW_TOKEN: a personal access token (`pollflow tokens create`): the CLI then acts as its
  person; without one a write is recorded as the machine's user (local-shell).
- POLLFLOW_SSO_ISSUER, POLLFLOW_SSO_CLIENT_ID, POLLFLOW_SSO_CLIENT_SECRET: an OpenID Connect
  provider (Microsoft Entra ID or any other) for "Sign in with your council account".
- POLLFLOW_SSO_NAME (your council account): what the sign-in button calls the provider.
- POLLFLOW_DEBUG=1: tracebacks and Prefect's own logs on the command line.

A bad value is refused in one line naming the variable and what is allowed. The environment is
read when asked, not once at import: the CLI, the web service and the tests each set it first.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from timetables.errors import PollflowError

NOTIFY_BASE_URL = "https://api.notifications.service.gov.uk"
BANK_HOLIDAYS_URL = "https://www.gov.uk/bank-holidays.json"
PUBLIC_URL = "http://127.0.0.1:8080"


def env(name: str) -> str | None:
    """One POLLFLOW_* variable, or None where it is unset or empty (as if unset)."""
    return os.environ.get(name) or None


def home() -> Path:
    return Path(env("POLLFLOW_HOME") or Path.home() / ".pollflow")


def database_url() -> str:
    return env("POLLFLOW_DATABASE_URL") or f"sqlite:///{home() / 'pollflow.db'}"


def public_url() -> str:
    """The address people reach `pollflow web` at, for links in messages."""
    return (env("POLLFLOW_PUBLIC_URL") or PUBLIC_URL).rstrip("/")


def local_links_allowed() -> bool:
    """Whether links in messages to temporary staff may point at this machine (a test machine)."""
    return env("POLLFLOW_ALLOW_LOCAL_LINKS") is not None


def token() -> str | None:
    return env("POLLFLOW_TOKEN")


def sso() -> dict | None:
    """The OpenID Connect provider's issuer, client id, secret and name, or None where not set."""
    issuer, client_id = env("POLLFLOW_SSO_ISSUER"), env("POLLFLOW_SSO_CLIENT_ID")
    if not issuer or not client_id:
        return None
    return {
        "issuer": issuer.rstrip("/"),
        "client_id": client_id,
        "client_secret": env("POLLFLOW_SSO_CLIENT_SECRET") or "",
        "name": env("POLLFLOW_SSO_NAME") or "your council account",
    }


def debug() -> bool:
    return env("POLLFLOW_DEBUG") is not None


def _whole(name: str, default: int, least: int) -> int:
    given = env(name)
    if given is None:
        return default
    try:
        value = int(given)
    except ValueError:
        value = None
    if value is None or value < least:
        raise PollflowError(f"{name}={given!r} is not allowed: give a whole number of {least} or more")
    return value


def _path(name: str) -> Path | None:
    given = env(name)
    return Path(given) if given else None


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    smtp_url: str | None
    mail_from: str
    notify_api_key: str | None
    notify_base_url: str
    notify_email_template: str | None
    notify_sms_template: str | None
    webhook_url: str | None
    delivery_lease_seconds: int
    public_url: str = PUBLIC_URL
    bank_holidays_url: str = BANK_HOLIDAYS_URL
    staffing_config: Path | None = None
    fees_config: Path | None = None
    documents_dir: Path | None = None
    documents_webhook_url: str | None = None
    documents_webhook_secret: str | None = None
    document_templates: Path | None = None
    secret_key: str | None = None
    debug: bool = False

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @property
    def published_dir(self) -> Path:
        """Where published notices are written."""
        return self.documents_dir or self.home / "published"


def load() -> Settings:
    """Every setting, as the environment has them now."""
    return Settings(
        home=home(),
        database_url=database_url(),
        smtp_url=env("POLLFLOW_SMTP_URL"),
        mail_from=env("POLLFLOW_MAIL_FROM") or "pollflow <pollflow@localhost>",
        notify_api_key=env("POLLFLOW_NOTIFY_API_KEY"),
        notify_base_url=env("POLLFLOW_NOTIFY_BASE_URL") or NOTIFY_BASE_URL,
        notify_email_template=env("POLLFLOW_NOTIFY_EMAIL_TEMPLATE"),
        notify_sms_template=env("POLLFLOW_NOTIFY_SMS_TEMPLATE"),
        webhook_url=env("POLLFLOW_WEBHOOK_URL"),
        delivery_lease_seconds=_whole("POLLFLOW_DELIVERY_LEASE_SECONDS", 300, 1),
        public_url=public_url(),
        bank_holidays_url=env("POLLFLOW_BANK_HOLIDAYS_URL") or BANK_HOLIDAYS_URL,
        staffing_config=_path("POLLFLOW_STAFFING_CONFIG"),
        fees_config=_path("POLLFLOW_FEES_CONFIG"),
        documents_dir=_path("POLLFLOW_DOCUMENTS_DIR"),
        documents_webhook_url=env("POLLFLOW_DOCUMENTS_WEBHOOK_URL"),
        documents_webhook_secret=env("POLLFLOW_DOCUMENTS_WEBHOOK_SECRET"),
        document_templates=_path("POLLFLOW_DOCUMENT_TEMPLATES"),
        secret_key=env("POLLFLOW_SECRET_KEY"),
        debug=debug(),
    )
