"""Before each delivery: the alert policy applied to what is due for the team (tasks/messaging/
policy.py). In one transaction, so a crash leaves everything as it was:

- each message goes the way its person chose to hear (policy.route_for), read at this moment;
- a message for someone who hears only by the morning digest is not sent (marked 'gathered',
  with nothing to gather it into: the digest lists the work);
- in quiet hours every message the policy gathers waits until they end;
- a message to someone sent one within the last ``gather_minutes`` waits until that time is up;
- two or more due for one person go as one message that gathers them (each marked 'gathered',
  pointing at it), with a dedupe key made of theirs, so a rerun gathers nothing twice.

Urgent messages (a missed statutory deadline), messages to people outside the team and messages
the policy does not gather are never touched: they go as they are, at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import func, select
from sqlmodel import Session

from store.identity.council import council_name
from store.models import Notification, NotificationStatus, Person, utcnow
from store.outbox import OutgoingMessage, enqueue
from tasks.messaging.policy import Policy, policy, route_for


def gather(session: Session, now: dt.datetime | None = None, rules: Policy | None = None) -> dict:
    """Apply the policy to what is due by ``now``; how many messages were held, gathered or
    left to the digest."""
    now, rules = now or utcnow(), rules or policy()
    done = {"held": 0, "gathered": 0, "to_digest": 0}
    due = session.scalars(
        select(Notification)
        .where(
            Notification.status == NotificationStatus.QUEUED,
            Notification.attempts == 0,
            Notification.person_id.is_not(None),
            Notification.kind.in_(rules.gathered),
            Notification.kind.not_in(rules.urgent),
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.id)
    ).all()
    if not due:
        return done
    people = {
        p.id: p for p in session.scalars(select(Person).where(Person.id.in_({m.person_id for m in due})))
    }
    by_person: dict[int, list[Notification]] = {}
    for m in due:
        if people[m.person_id].hear_by == "digest":
            m.status, m.last_error = NotificationStatus.GATHERED, "not sent: they hear by the morning digest"
            done["to_digest"] += 1
        else:  # the way they chose to hear, read now: a choice changed since it was queued counts
            m.channel, m.recipient = route_for(people[m.person_id], m.kind, rules)
            by_person.setdefault(m.person_id, []).append(m)
    quiet_end = rules.quiet_hours.holds(now) if rules.quiet_hours else None
    last_sent = _last_sent(session, list(by_person)) if rules.gather_minutes else {}
    name = council_name(session) if by_person else ""
    for person_id, waiting in by_person.items():
        hold = quiet_end
        if hold is None and person_id in last_sent and last_sent[person_id] + rules.gather_window > now:
            hold = last_sent[person_id] + rules.gather_window
        if hold is not None:
            for m in waiting:
                m.next_attempt_at = hold
            done["held"] += len(waiting)
        elif len(waiting) > 1:
            _fold(session, people[person_id], waiting, name)
            done["gathered"] += len(waiting)
    session.flush()
    return done


def _last_sent(session: Session, person_ids: list[int]) -> dict[int, dt.datetime]:
    rows = session.execute(
        select(Notification.person_id, func.max(Notification.sent_at))
        .where(Notification.person_id.in_(person_ids), Notification.status == NotificationStatus.SENT)
        .group_by(Notification.person_id)
    ).all()
    return {person_id: at for person_id, at in rows if at is not None}


def _without_greeting(body: str) -> str:
    """A message's text without its own 'Dear ...,' line: the gathered message greets them once."""
    first, _, rest = body.strip().partition("\n")
    return rest.strip() if first.startswith("Dear ") and first.endswith(",") else body.strip()


def _fold(session: Session, person: Person, waiting: list[Notification], council: str) -> None:
    """One message for everything waiting for ``person``; each of those marked as gathered into it."""
    key = hashlib.sha256("|".join(m.dedupe_key for m in waiting).encode()).hexdigest()[:24]
    parts = [f"{n}. {m.subject}\n\n{_without_greeting(m.body)}" for n, m in enumerate(waiting, 1)]
    body = (
        f"Dear {person.name},\n\n{len(waiting)} things from {council}'s election work since your "
        f"last message, gathered into one:\n\n" + "\n\n---\n\n".join(parts) + "\n"
    )
    channel, recipient = waiting[0].channel, waiting[0].recipient
    if channel == "sms":  # several things are too long for a text (Notify's limit is 918 characters)
        channel, recipient = "email", person.email
    enqueue(
        session,
        [
            OutgoingMessage(
                dedupe_key=f"gathered:{person.id}:{key}",
                kind="gathered",
                channel=channel,
                recipient=recipient,
                subject=f"{len(waiting)} things for you: {waiting[0].subject}, and more",
                body=body,
                person_id=person.id,
                poll_id=waiting[0].poll_id if len({m.poll_id for m in waiting}) == 1 else None,
                useful_until=min((m.useful_until for m in waiting if m.useful_until), default=None),
            )
        ],
    )
    folded = session.scalar(
        select(Notification.id).where(Notification.dedupe_key == f"gathered:{person.id}:{key}")
    )
    for m in waiting:  # written by the flush at the end of gather(), with the rest
        m.status, m.gathered_into = NotificationStatus.GATHERED, folded
