"""Settings, from the environment. Every one has a default that works on a laptop.

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
- POLLFLOW_BANK_HOLIDAYS_URL (GOV.UK's): where `pollflow holidays refresh` fetches from.
- POLLFLOW_STAFFING_CONFIG, POLLFLOW_FEES_CONFIG: a council's own staffing ratios and fees laid
  over config/staffing.yaml and config/fees.yaml (or staffing.yaml / fees.yaml in POLLFLOW_HOME).
- POLLFLOW_DOCUMENTS_DIR ($POLLFLOW_HOME/published): where published notices are written.
- POLLFLOW_DOCUMENTS_WEBHOOK_URL, POLLFLOW_DOCUMENTS_WEBHOOK_SECRET: where published notices are
  announced (the council's website), with a signature.
- POLLFLOW_DOCUMENT_TEMPLATES: a folder of the council's own notice templates, searched first.
- POLLFLOW_DEBUG=1: tracebacks and Prefect's own logs on the command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from store.db import database_url
from timetables.paths import pollflow_home

NOTIFY_BASE_URL = "https://api.notifications.service.gov.uk"


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

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"


def load() -> Settings:
    home = pollflow_home()
    env = os.environ.get
    return Settings(
        home=home,
        database_url=database_url(),
        smtp_url=env("POLLFLOW_SMTP_URL") or None,
        mail_from=env("POLLFLOW_MAIL_FROM") or "pollflow <pollflow@localhost>",
        notify_api_key=env("POLLFLOW_NOTIFY_API_KEY") or None,
        notify_base_url=env("POLLFLOW_NOTIFY_BASE_URL") or NOTIFY_BASE_URL,
        notify_email_template=env("POLLFLOW_NOTIFY_EMAIL_TEMPLATE") or None,
        notify_sms_template=env("POLLFLOW_NOTIFY_SMS_TEMPLATE") or None,
        webhook_url=env("POLLFLOW_WEBHOOK_URL") or None,
        delivery_lease_seconds=int(env("POLLFLOW_DELIVERY_LEASE_SECONDS") or 300),
    )


def use_pollflow_prefect_home() -> None:
    """Keep Prefect's embedded database under POLLFLOW_HOME unless the user chose otherwise."""
    if "PREFECT_HOME" not in os.environ:
        path = load().prefect_home
        path.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(path)


def public_url() -> str:
    """The address people reach `pollflow web` at, for links in messages."""
    return (os.environ.get("POLLFLOW_PUBLIC_URL") or "http://127.0.0.1:8080").rstrip("/")
