"""Training for a poll: its sessions, bookings and attendance, and who holds a post that needs
training but has not yet attended a session (chased by the recruitment flow until the training
deadline).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlmodel import Session

from store.audit import record
from store.models import Poll, utcnow
from store.models.staff import STAFF_ROLES, StaffMember, StaffPost, TrainingBooking, TrainingSession
from store.staff import StaffingError, find_staff, get_plan, jsonable, label
from store.staff.config import StaffingRules
from timetables.clock import local

HOLDS_PLACE = ("booked", "attended")  # booking statuses that hold a place on a session


def add_session(
    session: Session,
    poll: Poll,
    code: str,
    *,
    title: str,
    venue: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    roles: list[str],
    actor: str,
) -> tuple[TrainingSession, list[str]]:
    """Add (or update) a training session; refused on or after polling day. Returns warnings."""
    if starts_at.tzinfo is None:
        raise ValueError("training times must be aware")
    if ends_at <= starts_at:
        raise StaffingError(
            f"training session {code} ends ({ends_at:%H:%M}) before it starts ({starts_at:%H:%M})"
        )
    if capacity < 1:
        raise StaffingError(f"capacity {capacity}: a session needs at least one place")
    if local(starts_at).date() >= poll.poll_date:
        raise StaffingError(
            f"training session {code} on {local(starts_at):%d %b %Y} is not before polling day "
            f"({poll.poll_date:%d %b %Y}): training is before polling day"
        )
    bad = [r for r in roles if r not in STAFF_ROLES]
    if bad:
        raise StaffingError(f"unknown role(s) {', '.join(bad)}: roles are {', '.join(STAFF_ROLES)}")
    warnings = []
    plan = get_plan(session, poll)
    if plan is not None and starts_at > plan.training_deadline:
        warnings.append(
            f"session {code} is after the training deadline "
            f"({local(plan.training_deadline):%a %d %b %Y %H:%M})"
        )
    existing = session.scalars(
        select(TrainingSession).where(TrainingSession.poll_id == poll.id, TrainingSession.code == code)
    ).first()
    values = dict(
        title=title, venue=venue, starts_at=starts_at, ends_at=ends_at, capacity=capacity, roles=roles
    )
    if existing is None:
        existing = TrainingSession(poll_id=poll.id, code=code, **values)
        session.add(existing)
        session.flush()
        record(
            session, actor, "training session added", poll_id=poll.id, subject=code, details=jsonable(values)
        )
    elif any(getattr(existing, k) != v for k, v in values.items()):
        booked = booked_count(session, existing)
        if capacity < booked:
            raise StaffingError(f"session {code} has {booked} booked: capacity cannot go below that")
        for k, v in values.items():
            setattr(existing, k, v)
        record(
            session,
            actor,
            "training session changed",
            poll_id=poll.id,
            subject=code,
            details=jsonable(values),
        )
    return existing, warnings


def sessions_of(session: Session, poll: Poll) -> list[TrainingSession]:
    return list(
        session.scalars(
            select(TrainingSession)
            .where(TrainingSession.poll_id == poll.id)
            .order_by(TrainingSession.starts_at, TrainingSession.code)
        ).all()
    )


def booked_count(session: Session, training: TrainingSession) -> int:
    return session.scalar(
        select(func.count())
        .select_from(TrainingBooking)
        .where(TrainingBooking.session_id == training.id, TrainingBooking.status.in_(HOLDS_PLACE))
    )


def booked_session(session: Session, poll: Poll, member: StaffMember) -> TrainingSession | None:
    """The session of this poll on which the person holds a place, if any."""
    return session.execute(
        select(TrainingSession)
        .join(TrainingBooking, TrainingBooking.session_id == TrainingSession.id)
        .where(
            TrainingSession.poll_id == poll.id,
            TrainingBooking.staff_id == member.id,
            TrainingBooking.status.in_(HOLDS_PLACE),
        )
    ).scalar()


def find_session(session: Session, poll: Poll, code: str) -> TrainingSession:
    found = session.scalars(
        select(TrainingSession).where(TrainingSession.poll_id == poll.id, TrainingSession.code == code)
    ).first()
    if found is None:
        codes = [s.code for s in sessions_of(session, poll)]
        raise StaffingError(
            f"no training session '{code}' for {poll.key}: sessions are {', '.join(codes) or 'none'}"
        )
    return found


def roles_held(session: Session, poll: Poll, member: StaffMember) -> list[str]:
    return sorted(
        set(
            session.scalars(
                select(StaffPost.role).where(
                    StaffPost.poll_id == poll.id,
                    StaffPost.staff_id == member.id,
                    StaffPost.status.in_(("offered", "accepted")),
                )
            )
        )
    )


def book(
    session: Session, poll: Poll, member: StaffMember, code: str, actor: str
) -> tuple[TrainingBooking, bool]:
    """Book a place (moving any other booking of this poll's sessions); (booking, changed)."""
    training = find_session(session, poll, code)
    if training.starts_at <= utcnow():
        raise StaffingError(f"session {code} has already started: choose a later one")
    held = roles_held(session, poll, member)
    if training.roles and held and not set(training.roles) & set(held):
        raise StaffingError(
            f"session {code} is for {', '.join(map(label, training.roles))}, "
            f"not {', '.join(map(label, held))}"
        )
    mine = session.execute(
        select(TrainingBooking, TrainingSession)
        .join(TrainingSession, TrainingSession.id == TrainingBooking.session_id)
        .where(TrainingSession.poll_id == poll.id, TrainingBooking.staff_id == member.id)
    ).all()
    for booking, other in mine:
        if other.id == training.id and booking.status in HOLDS_PLACE:
            return booking, False
    if booked_count(session, training) >= training.capacity:
        raise StaffingError(f"session {code} is full ({training.capacity} places): choose another")
    for booking, _other in mine:
        if booking.status == "booked":
            booking.status = "cancelled"
    existing = next((b for b, o in mine if o.id == training.id), None)
    if existing is not None:
        existing.status, existing.booked_at = "booked", utcnow()
        booking = existing
    else:
        booking = TrainingBooking(session_id=training.id, staff_id=member.id)
        session.add(booking)
    session.flush()
    record(
        session, actor, "training booked", poll_id=poll.id, subject=member.email, details={"session": code}
    )
    return booking, True


def mark_attendance(
    session: Session, poll: Poll, code: str, emails: list[str], attended: bool, actor: str
) -> list[str]:
    """Record who came to a session (booked or not); returns who changed."""
    training = find_session(session, poll, code)
    status = "attended" if attended else "absent"
    changed = []
    for email in emails:
        member = find_staff(session, email)
        booking = session.scalars(
            select(TrainingBooking).where(
                TrainingBooking.session_id == training.id, TrainingBooking.staff_id == member.id
            )
        ).first()
        if booking is None:
            booking = TrainingBooking(session_id=training.id, staff_id=member.id, status=status)
            session.add(booking)
        elif booking.status == status:
            continue
        booking.status, booking.marked_at, booking.marked_by = status, utcnow(), actor
        changed.append(member.email)
    if changed:
        record(
            session,
            actor,
            f"training {status}",
            poll_id=poll.id,
            subject=code,
            details={"people": changed},
        )
    return changed


def trained_ids(session: Session, poll: Poll) -> set[int]:
    return set(
        session.scalars(
            select(TrainingBooking.staff_id)
            .join(TrainingSession, TrainingSession.id == TrainingBooking.session_id)
            .where(TrainingSession.poll_id == poll.id, TrainingBooking.status == "attended")
        )
    )


def booked_ids(session: Session, poll: Poll) -> set[int]:
    return set(
        session.scalars(
            select(TrainingBooking.staff_id)
            .join(TrainingSession, TrainingSession.id == TrainingBooking.session_id)
            .where(TrainingSession.poll_id == poll.id, TrainingBooking.status.in_(HOLDS_PLACE))
        )
    )


def untrained(
    session: Session, poll: Poll, rules: StaffingRules
) -> list[tuple[StaffMember, list[StaffPost]]]:
    """Everyone offered or appointed to a post that needs training who has not attended a
    session of this poll."""
    trained = trained_ids(session, poll)
    held: dict[int, list[StaffPost]] = defaultdict(list)
    for post in session.scalars(
        select(StaffPost).where(
            StaffPost.poll_id == poll.id,
            StaffPost.active,
            StaffPost.status.in_(("offered", "accepted")),
            StaffPost.role.in_(rules.training.required_for),
        )
    ):
        if post.staff_id not in trained:
            held[post.staff_id].append(post)
    members = {m.id: m for m in session.scalars(select(StaffMember).where(StaffMember.id.in_(list(held))))}
    return sorted(((members[i], posts) for i, posts in held.items()), key=lambda x: x[0].name)
