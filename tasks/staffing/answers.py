"""Answers given through a personal link, from the web page or (by phone, to an officer) the
command line: available or not for an invitation, accepted, declined or withdrawn for an offer,
and a training place booked. Each is idempotent: the same answer twice changes nothing and sends
nothing new."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session

from store import staff
from store.db import session_scope
from store.staff import recruitment as staff_recruitment
from store.staff import training as staff_training
from tasks.staffing import messages
from tasks.staffing.links import Resolved, letter_url, resolve
from timetables.clock import long_date


@dataclass
class Responded:
    kind: str  # invitation | offer | training
    accepted: bool
    changed: bool
    poll_title: str
    name: str
    email: str
    summary: str
    released: list[str] = field(default_factory=list)
    letter_link: str | None = None


def respond(
    token: str,
    accept: bool,
    *,
    via: str,
    actor: str | None = None,
    dates: list[dt.date] | None = None,
    roles: list[str] | None = None,
    reason: str | None = None,
    training: str | None = None,
    now: dt.datetime | None = None,
) -> Responded:
    """Record an answer given through a personal link; queue what it sends. Idempotent: the
    same answer twice changes nothing and sends nothing new."""
    with session_scope() as session:
        found = resolve(session, token, now)
        who = actor or f"staff:{found.member.email}"
        if found.kind == "invitation":
            return _answer_invitation(session, found, accept, via, who, dates, roles, reason, now)
        responded = _answer_offer(session, found, token, accept, via, who, reason)
        if accept and training:
            _, booked = staff_training.book(session, found.poll, found.member, training, who)
            if booked:
                messages.queue_booking_message(session, found, training)
        return responded


def _answer_invitation(
    session: Session,
    found: Resolved,
    accept: bool,
    via: str,
    who: str,
    dates: list[dt.date] | None,
    roles: list[str] | None,
    reason: str | None,
    now: dt.datetime | None,
) -> Responded:
    answer = staff_recruitment.answer_invitation(
        session,
        found.recruitment,
        accept,
        dates=dates,
        roles=roles,
        via=via,
        actor=who,
        note=reason,
        as_of=now,
    )
    summary = (
        "available on "
        + ", ".join(long_date(dt.date.fromisoformat(d)) for d in found.recruitment.available_dates)
        if accept
        else "not available"
    )
    if answer.changed:
        messages.queue_answer_messages(session, found, answer)
    return Responded(
        "invitation",
        accept,
        answer.changed,
        found.poll.title,
        found.member.name,
        found.member.email,
        summary,
        [p.key for p in answer.released],
    )


def _answer_offer(
    session: Session, found: Resolved, token: str, accept: bool, via: str, who: str, reason: str | None
) -> Responded:
    answer = staff_recruitment.answer_offer(session, found.offer, accept, via=via, actor=who, reason=reason)
    if answer.changed:
        messages.queue_offer_messages(session, found, answer)
    return Responded(
        "offer",
        accept,
        answer.changed,
        found.poll.title,
        found.member.name,
        found.member.email,
        f"{staff.label(found.post.role)}, {found.post.label}"
        + (" (accepted)" if accept else " (withdrawn)" if answer.withdrawn else " (declined)"),
        [p.key for p in answer.released],
        letter_link=letter_url(session, token) if found.offer.status == "accepted" else None,
    )


def book_training(token: str, code: str, *, actor: str | None = None) -> bool:
    """Book (or move) a training place through an offer link."""
    with session_scope() as session:
        found = resolve(session, token)
        if found.kind != "offer" or found.offer.status not in ("offered", "accepted"):
            raise staff.StaffingError("training is booked once you have been offered a post")
        _, changed = staff_training.book(
            session, found.poll, found.member, code, actor or f"staff:{found.member.email}"
        )
        if changed:
            messages.queue_booking_message(session, found, code)
        return changed
