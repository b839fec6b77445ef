"""The notification outbox: queued once, claimed by one sender, delivered once.

- ``enqueue`` inserts by dedupe key and ignores keys already there, so a reminder, an overdue
  alert or a digest is queued exactly once however many scans see it, even two at once.
- ``claim`` marks a batch 'sending' with a lease, in one statement. On PostgreSQL it skips rows
  another sender holds (FOR UPDATE SKIP LOCKED), so two senders never take the same message.
- A sender marks each message sent (or failed, or due again later) as soon as it knows, in its
  own transaction: a sender killed mid-batch leaves the rest 'queued', and the one in hand
  'sending' until its lease runs out, when another run takes it over.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from store.models import Notification, utcnow

# Temporary failures are retried after 1, 2, 4 ... minutes, at most an hour apart.
BACKOFF_START = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=1)
MAX_ATTEMPTS = 12


def enqueue(session: Session, messages: list[dict]) -> int:
    """Queue messages (dicts of Notification fields); return how many were new."""
    if not messages:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [
        {"next_attempt_at": now, "created_at": now, "status": "queued", "attempts": 0, **m} for m in messages
    ]
    added = 0
    for start in range(0, len(rows), 500):
        statement = (
            insert(Notification)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(Notification.id)
        )
        added += len(session.execute(statement).all())
    return added


def claim(
    session: Session, limit: int, lease: dt.timedelta, now: dt.datetime | None = None
) -> list[Notification]:
    """Take up to ``limit`` messages that are due (or whose sender's lease ran out)."""
    now = now or utcnow()
    due = or_(
        and_(Notification.status == "queued", Notification.next_attempt_at <= now),
        and_(Notification.status == "sending", Notification.claimed_until < now),
    )
    pick = select(Notification.id).where(due).order_by(Notification.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    statement = (
        update(Notification)
        .where(Notification.id.in_(pick.scalar_subquery()))
        .values(status="sending", claimed_until=now + lease, attempts=Notification.attempts + 1)
        .returning(Notification.id)
    )
    ids = [row[0] for row in session.execute(statement).all()]
    session.commit()
    if not ids:
        return []
    return list(
        session.scalars(select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)).all()
    )


def mark_sent(session: Session, message: Notification, provider_id: str | None = None) -> None:
    message.status, message.sent_at, message.claimed_until = "sent", utcnow(), None
    message.provider_id = provider_id
    message.last_error = None
    session.add(message)
    session.commit()


def mark_retry(session: Session, message: Notification, error: str) -> None:
    """A temporary failure: queued again, later each time; failed for good after MAX_ATTEMPTS."""
    if message.attempts >= MAX_ATTEMPTS:
        mark_failed(session, message, f"gave up after {message.attempts} attempts: {error}")
        return
    delay = min(BACKOFF_START * 2 ** (message.attempts - 1), BACKOFF_CAP)
    message.status, message.claimed_until = "queued", None
    message.next_attempt_at = utcnow() + delay
    message.last_error = error
    session.add(message)
    session.commit()


def mark_failed(session: Session, message: Notification, error: str) -> None:
    message.status, message.claimed_until, message.last_error = "failed", None, error
    session.add(message)
    session.commit()


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    return {status: n for status, n in rows}
