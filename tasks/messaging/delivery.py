"""Delivering the outbox: claim a batch, send each message, record what happened to it.

Each message is recorded in its own transaction as soon as its fate is known: a message sent, the
moment its server says it took it (store.sent: on PostgreSQL the database makes that record
durable while the next message is sent, and it is checked before anything else is written; one
record at most is in flight). Before each send
the sender makes sure its lease on the message will outlast the send (renewing the lease on the
rest of the batch when it runs low), so that no other sender can take a message over while it
is being sent; a message another sender took over anyway is left to that sender.

Before the first claim the alert policy is applied to what is due (tasks/messaging/gather.py: quiet
hours, gathering several messages to one person into one, the digest-only choice), in a
transaction of its own, by the same clock as the claims.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlmodel import Session

from store import outbox
from store.db import get_engine
from store.models import Notification, NotificationStatus, utcnow
from store.sent import RecordFailed, SentRecorder
from tasks.messaging.channels import Channels, NotifyChannel, PermanentFailure, TemporaryFailure
from tasks.messaging.gather import gather
from tasks.messaging.policy import Policy
from timetables.settings import Settings, load

# The longest a send may take (the SMTP timeout is 20 s, Notify's 30 s): a message is only sent
# while its lease has at least this long to run (or half the lease, if the lease is shorter).
SEND_MARGIN = dt.timedelta(seconds=60)
# The most messages one delivery run sends; the rest wait for the next run.
RUN_LIMIT = 10_000


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    taken_over: int = 0  # messages another sender took over after this one's lease ran out
    gathered: dict = field(default_factory=dict)  # what the alert policy held, gathered, left to the digest

    def add(self, other: DeliveryReport) -> None:
        """Count ``other`` (another pass of the same run) in with this one."""
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.taken_over += other.taken_over
        self.errors += other.errors
        for key, n in other.gathered.items():
            self.gathered[key] = self.gathered.get(key, 0) + n

    def summary(self) -> dict:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            **{k: v for k, v in self.gathered.items() if v},
            "errors": self.errors[:20],
        }


def deliver(
    engine: Engine,
    settings: Settings,
    *,
    limit: int = RUN_LIMIT,
    batch: int = 100,
    now: dt.datetime | None = None,
    rules: Policy | None = None,
) -> DeliveryReport:
    """Send what is due in the outbox, up to ``limit`` messages, each in its own transaction.

    ``now`` is the delivery's clock for what is due, for the policy's quiet hours and gathering,
    and for when a retry falls due (a simulated check and tests move it on); leases are renewed by
    the real clock. ``rules``: the alert policy (else config/alerts.yaml and the council's)."""
    report = DeliveryReport()
    with Session(engine) as session:
        report.gathered = gather(session, now, rules)
        session.commit()
    channels = Channels(settings)
    lease = dt.timedelta(seconds=max(settings.delivery_lease_seconds, 1))
    margin = min(SEND_MARGIN, lease / 2)
    taken = 0
    try:
        # One connection for the run, in autocommit: every outbox write is a single statement, so
        # each is its own transaction all the same (durable when it returns), with no BEGIN and
        # COMMIT round trips and no pool check-out around each message.
        with (
            engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection,
            Session(connection, expire_on_commit=False) as session,
        ):
            sent = SentRecorder(session.connection())
            try:
                while taken < limit:
                    _settle(sent, report)
                    claimed = outbox.claim(session, min(batch, limit - taken), lease, now)
                    if not claimed:
                        break
                    taken += len(claimed)
                    pending = deque(claimed)
                    while pending:
                        if pending[0].claimed_until - margin <= utcnow():
                            _settle(sent, report)
                            held = outbox.extend(session, list(pending), lease)
                            kept = {m.id for m in held}
                            _lost(report, [m for m in pending if m.id not in kept])
                            pending = deque(held)
                            continue
                        _send_one(session, sent, channels, pending.popleft(), report, now)
                _settle(sent, report)
            finally:
                sent.abandon()
    finally:
        channels.close()
    return report


def deliver_outbox(limit: int = RUN_LIMIT, now: dt.datetime | None = None) -> DeliveryReport:
    """Deliver the store's outbox through the channels the settings configure (the flows' step);
    ``now``: a simulated check's time (else the clock)."""
    return deliver(get_engine(), load(), limit=limit, now=now)


def _who(message: Notification) -> str:
    """Whom a message was for, as the report says it: a person's own webhook address is the key to
    their channel, so only its host is shown."""
    if message.recipient.startswith(("https://", "http://")):
        return f"their own webhook ({urlsplit(message.recipient).hostname})"
    return message.recipient


def _lost(report: DeliveryReport, messages: list[Notification]) -> None:
    for message in messages:
        report.taken_over += 1
        report.errors.append(f"{_who(message)}: another sender took message {message.id} over")


def _settle(sent: SentRecorder, report: DeliveryReport) -> None:
    """Wait for the last message's record, if it is still in flight (see store.sent)."""
    settled = sent.settle()
    if settled is not None and not settled[1]:
        _lost(report, [settled[0]])


def _send_one(
    session: Session,
    sent: SentRecorder,
    channels: Channels,
    message: Notification,
    report: DeliveryReport,
    now: dt.datetime | None,
) -> None:
    try:
        channel = channels.route(message)
        provider_id = None
        if isinstance(channel, NotifyChannel) and message.attempts > 1:
            # A retry, perhaps after a sender died mid-send: ask Notify before sending again.
            provider_id = channel.already_sent(message.dedupe_key)
        if provider_id is None:
            prepared = channel.prepare(message)  # the email made, then the last record settled:
            _settle(sent, report)  # it is durable before this message goes, nothing in between
            provider_id = channel.send(message, prepared)
    except TemporaryFailure as exc:
        _settle(sent, report)  # the last message's record, before this one's
        recorded = outbox.mark_retry(session, message, str(exc), now)
        _count_retry(report, message)
        report.errors.append(f"{_who(message)}: {exc}")
    except PermanentFailure as exc:
        _settle(sent, report)
        recorded = outbox.mark_failed(session, message, str(exc))
        report.failed += 1
        report.errors.append(f"{_who(message)}: {exc}")
    except RecordFailed:
        raise  # the store, not this message: the run stops
    except Exception as exc:
        # A fault of pollflow's or a library's: this message is retried (and given up on once it
        # is no longer worth sending) instead of stopping every message after it, run after run.
        channels.close()
        _settle(sent, report)
        recorded = outbox.mark_retry(session, message, f"unexpected error: {exc!r}", now)
        _count_retry(report, message)
        report.errors.append(f"{_who(message)}: unexpected error: {exc!r}")
    else:
        # At once, nothing in between: a sender killed from the moment the server took the message
        # until this statement reaches the database leaves the message to be sent again.
        _settle(sent, report)  # (settled already, unless Notify had sent it before)
        sent.record(message, provider_id)  # its answer is read as the next message is made
        report.sent += 1
        return
    if not recorded:
        _lost(report, [message])


def _count_retry(report: DeliveryReport, message: Notification) -> None:
    """A temporary failure is retried, or failed where the message would be no use by the next try."""
    if message.status == NotificationStatus.FAILED:
        report.failed += 1
    else:
        report.retrying += 1
