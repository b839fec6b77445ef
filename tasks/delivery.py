"""Delivering the outbox: claim a batch, send each message, record what happened to it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session

from store import outbox
from store.models import Notification
from tasks.channels import Channels, NotifyChannel, PermanentFailure, TemporaryFailure
from tasks.settings import Settings


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "errors": self.errors[:20],
        }


def deliver(
    engine: Engine,
    settings: Settings,
    *,
    limit: int = 10_000,
    batch: int = 100,
    now: dt.datetime | None = None,
) -> DeliveryReport:
    """Send what is due in the outbox, up to ``limit`` messages, each in its own transaction."""
    report = DeliveryReport()
    channels = Channels(settings)
    lease = dt.timedelta(seconds=settings.delivery_lease_seconds)
    taken = 0
    try:
        with Session(engine, expire_on_commit=False) as session:
            while taken < limit:
                claimed = outbox.claim(session, min(batch, limit - taken), lease, now)
                if not claimed:
                    break
                taken += len(claimed)
                for message in claimed:
                    _send_one(session, channels, message, report)
    finally:
        channels.close()
    return report


def _send_one(session: Session, channels: Channels, message: Notification, report: DeliveryReport) -> None:
    try:
        channel = channels.route(message)
        provider_id = None
        if isinstance(channel, NotifyChannel) and message.attempts > 1:
            # A retry, perhaps after a sender died mid-send: ask Notify before sending again.
            provider_id = channel.already_sent(message.dedupe_key)
        if provider_id is None:
            provider_id = channel.send(message)
    except TemporaryFailure as exc:
        outbox.mark_retry(session, message, str(exc))
        report.retrying += 1
        report.errors.append(f"{message.recipient}: {exc}")
    except PermanentFailure as exc:
        outbox.mark_failed(session, message, str(exc))
        report.failed += 1
        report.errors.append(f"{message.recipient}: {exc}")
    else:
        outbox.mark_sent(session, message, provider_id)
        report.sent += 1
