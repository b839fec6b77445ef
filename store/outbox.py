"""The notification outbox: queued once, claimed by one sender, delivered once.

- ``OutgoingMessage`` is what every feature hands the outbox (``message()`` builds one from a
  rendered subject and body). ``enqueue`` inserts by dedupe key and ignores keys already there,
  so a reminder, an overdue alert or a digest is queued exactly once however many scans see it,
  even two at once.
- ``claim`` marks a batch 'sending' with a lease, in one statement. On PostgreSQL it skips rows
  another sender holds (FOR UPDATE SKIP LOCKED), so two senders never take the same message.
  Each claim counts an attempt, and the attempt count is the claim's token: a sender's
  ``mark_*`` and ``extend`` change a message only while it is still 'sending' on that attempt,
  so a sender whose lease ran out (and whose message another sender took over) cannot undo
  what the other recorded.
- A sender marks each message sent (or failed, or due again later) as soon as it knows, in its
  own transaction: a sender killed mid-batch leaves what it had sent 'sent', and the rest of its
  batch (the message in hand included) 'sending' until the lease runs out, when another run takes
  them over.
- Every write here is a single statement, so it is atomic even on a connection in autocommit
  (which is how ``tasks.messaging.delivery`` runs them, to save a round trip or two a message).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from store.audit import record
from store.models import Notification, NotificationStatus, Person, utcnow
from timetables.clock import local
from timetables.errors import PollflowError

# Temporary failures are retried after 1, 2, 4 ... minutes, at most an hour apart, for as long
# as the message is worth sending: until its ``useful_until`` (a reminder, until the work is due),
# or USEFUL_FOR after it was queued where the feature that queued it gave no time.
BACKOFF_START = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=1)
USEFUL_FOR = dt.timedelta(days=3)
RETRIED_FOR = dt.timedelta(days=1)  # how long `pollflow outbox retry` keeps trying a message


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to queue: the contract between every feature that sends and delivery."""

    dedupe_key: str  # queued once per key, however often it is offered
    kind: str  # what it is about: reminder, overdue, staff-offer, canvass-report...
    channel: str  # email, sms or webhook
    recipient: str  # an email address, a phone number, "webhook" (the team's), or a webhook's address
    subject: str
    body: str
    poll_id: int | None = None
    person_id: int | None = None
    work_item_id: int | None = None
    useful_until: dt.datetime | None = None  # not worth sending later (None: USEFUL_FOR)


def message(
    dedupe_key: str,
    kind: str,
    rendered: tuple[str, str],
    *,
    to: Person | None = None,
    recipient: str | None = None,
    channel: str = "email",
    poll_id: int | None = None,
    work_item_id: int | None = None,
    useful_until: dt.datetime | None = None,
) -> OutgoingMessage:
    """A message from a rendered (subject, body): to a person (their email, unless ``recipient``
    says otherwise, such as their phone), or to a bare ``recipient`` (a member of staff, the
    team's webhook).

    A message to a person is queued by email whatever they chose: the kinds the alert policy
    gathers are re-addressed the way they chose to hear just before delivery, by
    tasks.messaging.gather with tasks.messaging.policy.route_for (the store knows nothing of the
    policy), so that a choice changed while a message waits holds for that message too."""
    subject, body = rendered
    if recipient is None:
        if to is None:
            raise ValueError(f"message {dedupe_key} has no recipient")
        recipient = to.email
    return OutgoingMessage(
        dedupe_key=dedupe_key,
        kind=kind,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        poll_id=poll_id,
        person_id=to.id if to is not None else None,
        work_item_id=work_item_id,
        useful_until=useful_until,
    )


def enqueue(session: Session, messages: list[OutgoingMessage]) -> int:
    """Queue messages; return how many were new."""
    if not messages:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    # Every row names every column (one INSERT for many rows must), so a field only some
    # messages give is kept for those and None for the rest.
    rows = [
        {
            "dedupe_key": m.dedupe_key,
            "kind": m.kind,
            "channel": m.channel,
            "recipient": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "poll_id": m.poll_id,
            "person_id": m.person_id,
            "work_item_id": m.work_item_id,
            "useful_until": m.useful_until or now + USEFUL_FOR,
            "next_attempt_at": now,
            "created_at": now,
            "status": NotificationStatus.QUEUED,
            "attempts": 0,
        }
        for m in messages
    ]
    # One statement, compiled once and cached, its rows sent as parameters: SQLAlchemy batches
    # them into multi-row INSERTs itself ("insertmanyvalues"), RETURNING the ids of the new ones.
    # (Building a fresh 500-row VALUES statement each time cost more in compiling than in sending.)
    statement = (
        insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Notification.id)
    )
    return len(session.execute(statement, rows).all())


def claim(
    session: Session, limit: int, lease: dt.timedelta, now: dt.datetime | None = None
) -> list[Notification]:
    """Take up to ``limit`` messages that are due (or whose sender's lease ran out), in id order."""
    now = now or utcnow()
    due = or_(
        and_(Notification.status == NotificationStatus.QUEUED, Notification.next_attempt_at <= now),
        and_(Notification.status == NotificationStatus.SENDING, Notification.claimed_until < now),
    )
    pick = select(Notification.id).where(due).order_by(Notification.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    statement = (
        update(Notification)
        .where(Notification.id.in_(pick.scalar_subquery()))
        .values(
            status=NotificationStatus.SENDING, claimed_until=now + lease, attempts=Notification.attempts + 1
        )
        .returning(Notification)
        # The claimed rows come back whole (no second query), over any copy the session holds.
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    claimed = sorted(session.scalars(statement).all(), key=lambda m: m.id)
    session.commit()
    return claimed


_table = Notification.__table__
# One statement for every outcome: the message, if this sender still holds it ('sending' on the
# attempt it claimed). Core, not the ORM: it runs once a message.
_RECORD = _table.update().where(
    _table.c.id == bindparam("message_id"),
    _table.c.status == NotificationStatus.SENDING,
    _table.c.attempts == bindparam("claimed_attempt"),
)


def _record(session: Session, message: Notification, **values) -> bool:
    """Write ``values`` if the sender still holds the message; commit; say whether it did."""
    result = session.connection().execute(
        _RECORD.values(**values), {"message_id": message.id, "claimed_attempt": message.attempts}
    )
    session.commit()
    if result.rowcount != 1:
        return False
    for key, value in values.items():
        set_committed_value(message, key, value)
    return True


def extend(
    session: Session, messages: list[Notification], lease: dt.timedelta, now: dt.datetime | None = None
) -> list[Notification]:
    """Renew the lease on messages this sender still holds; return those (the others were
    taken over by another sender when their lease ran out)."""
    if not messages:
        return []
    until = (now or utcnow()) + lease
    statement = (
        update(Notification)
        .where(
            tuple_(Notification.id, Notification.attempts).in_([(m.id, m.attempts) for m in messages]),
            Notification.status == NotificationStatus.SENDING,
        )
        .values(claimed_until=until)
        .returning(Notification.id)
    )
    kept = {row[0] for row in session.execute(statement, execution_options={"synchronize_session": False})}
    session.commit()
    for message in messages:
        if message.id in kept:
            set_committed_value(message, "claimed_until", until)
    return [m for m in messages if m.id in kept]


def mark_sent(session: Session, message: Notification, provider_id: str | None = None) -> bool:
    """Record a message as sent; False if another sender had taken it over."""
    return _record(
        session,
        message,
        status=NotificationStatus.SENT,
        sent_at=utcnow(),
        claimed_until=None,
        provider_id=provider_id,
        last_error=None,
    )


def mark_retry(session: Session, message: Notification, error: str, now: dt.datetime | None = None) -> bool:
    """A temporary failure: queued again, later each time, while the message is still worth
    sending; failed, saying why, once the next try would come after its ``useful_until``.

    The wait counts from ``now`` (the sender's clock, as given to ``claim``), so a message is
    never due again in the run that just failed to send it."""
    now = now or utcnow()
    delay = min(BACKOFF_START * 2 ** min(max(message.attempts - 1, 0), 20), BACKOFF_CAP)
    until = message.useful_until or message.created_at + USEFUL_FOR
    if now + delay > until:
        return mark_failed(
            session,
            message,
            f"not sent by {local(until):%d %b %H:%M}, after which it is no use "
            f"({message.attempts} attempts): {error}",
        )
    return _record(
        session,
        message,
        status=NotificationStatus.QUEUED,
        claimed_until=None,
        next_attempt_at=now + delay,
        last_error=error,
    )


def mark_failed(session: Session, message: Notification, error: str) -> bool:
    """Record a message as never going to be delivered; False if another sender had taken it over."""
    return _record(session, message, status=NotificationStatus.FAILED, claimed_until=None, last_error=error)


def retry_failed(session: Session, ids: list[int] | None, actor: str) -> int:
    """Put failed messages (these, or every one) back in the queue, due now; how many. Their dedupe
    keys are unchanged, so none is queued twice; a message that was sent stays sent. Each gets one
    more delivery attempt (its attempt count is kept: it fences off a sender that lost its lease,
    and tells the Notify channel to look for an earlier send before sending again)."""
    query = select(Notification).where(Notification.status == NotificationStatus.FAILED)
    if ids:
        found = session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
        missing = sorted(set(ids) - {n.id for n in found})
        if missing:
            raise PollflowError(
                f"no message {', '.join(map(str, missing))} in the outbox: `pollflow outbox` lists them"
            )
        not_failed = [f"{n.id} ({n.status})" for n in found if n.status != NotificationStatus.FAILED]
        if not_failed:
            raise PollflowError(f"only failed messages are queued again, not {', '.join(not_failed)}")
        query = query.where(Notification.id.in_(ids))
    rows = session.scalars(query).all()
    now = utcnow()
    for n in rows:
        n.status, n.next_attempt_at, n.claimed_until = NotificationStatus.QUEUED, now, None
        # Someone asked for it to go, so it is worth a day's more tries, however late it is.
        n.useful_until = max(n.useful_until or now, now + RETRIED_FOR)
    if rows:
        record(session, actor, "messages queued again", details={"ids": [n.id for n in rows][:500]})
    return len(rows)


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    return {status: n for status, n in rows}
