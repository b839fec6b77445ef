"""What staffing messages say, and the messages themselves: invitations, chasers, offers,
appointments, training requests and bookings to the staff; withdrawals to the staffing officers.

Each message has a dedupe key, so it is queued once however often its step runs: an invitation
per poll and person, a chaser by its number, an offer or an answer by the moment it was made.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import object_session
from sqlmodel import Session

from store import staff
from store.identity.council import council_details
from store.models import Poll, utcnow
from store.models.staff import (
    PollingStation,
    StaffingPlan,
    StaffMember,
    StaffOffer,
    StaffPost,
    StaffRecruitment,
    TrainingBooking,
    TrainingSession,
)
from store.outbox import OutgoingMessage, enqueue, message
from store.owners import holders
from store.staff import recruitment as staff_recruitment
from store.staff import training as staff_training
from store.staff.config import fee_schedule, staffing_rules
from tasks.messaging.render import render, when
from tasks.staffing.links import Resolved, invitation_token, letter_url, offer_token, respond_url
from timetables.clock import local, long_date

# Told when a member of staff withdraws or changes their availability.
STAFFING_OFFICERS = ("staffing-officer", "electoral-services-manager")

DUTIES = (
    ("at a polling station", ("presiding-officer", "poll-clerk", "polling-station-inspector")),
    ("the count", ("count-supervisor", "count-assistant")),
    ("postal vote opening", ("postal-vote-opener",)),
)


# --- what messages and letters say ---------------------------------------------------------------


def council(session=None) -> dict:
    """The council's details (the workspace's, over the staffing configuration's)."""
    if session is None:
        return staffing_rules().council.model_dump()
    return council_details(session)


def poll_ctx(poll: Poll, plan: StaffingPlan) -> dict:
    return {
        "key": poll.key,
        "title": poll.title,
        "day": long_date(poll.poll_date),
        "recruitment_closes": when(plan.recruitment_close),
        "training_deadline": when(plan.training_deadline),
    }


def duty_lines(session: Session, poll: Poll, member: StaffMember) -> list[str]:
    """'Thursday 6 May 2027: at a polling station (Presiding Officer, Poll Clerk); the count
    (Count Assistant)' for the days they could work at this poll."""
    lines = []
    for day, roles in sorted(staff_recruitment.duty_days(session, poll).items()):
        mine = sorted(r for r in roles if r in member.roles)
        if mine:
            lines.append(f"{long_date(day)}: {duty_text(mine)}")
    return lines


def duty_text(roles) -> str:
    """'at a polling station (Poll Clerk); the count (Count Assistant)'."""
    parts = []
    for what, kinds in DUTIES:
        mine = [staff.label(r) for r in kinds if r in roles]
        if mine:
            parts.append(f"{what} ({', '.join(mine)})")
    return "; ".join(parts)


def post_ctx(session: Session, post: StaffPost) -> dict:
    station = session.get(PollingStation, post.station_id) if post.station_id else None
    fees = fee_schedule()
    return {
        "key": post.key,
        "role": staff.label(post.role),
        "label": post.label,
        "day": long_date(post.duty_date),
        "starts": post.starts.strftime("%H:%M"),
        "ends": post.ends.strftime("%H:%M"),
        "station": station.name if station else None,
        "station_code": station.code if station else None,
        "address": ", ".join(p for p in (station.address, station.postcode) if p) if station else None,
        "fee": f"£{fees.roles[post.role].fee:,.2f}",
    }


def session_ctx(session: Session, s: TrainingSession) -> dict:
    left = s.capacity - staff_training.booked_count(session, s)
    return {
        "code": s.code,
        "title": s.title,
        "venue": s.venue,
        "when": f"{local(s.starts_at):%a} {local(s.starts_at).day} {local(s.starts_at):%b %Y, %H:%M}"
        f"-{local(s.ends_at):%H:%M}",
        "places_left": max(left, 0),
        "roles": [staff.label(r) for r in s.roles],
    }


def person_ctx(member: StaffMember) -> dict:
    return {"name": member.name, "email": member.email}


def staff_message(
    dedupe_key: str, kind: str, recipient: str, template: str, poll_row: Poll, **ctx
) -> OutgoingMessage:
    """A staffing email (to a member of staff or an officer), rendered with the council's details
    (``ctx`` is the template's: its ``poll`` is the poll's text, ``poll_row`` the stored poll)."""
    rendered = render(template, council=council(object_session(poll_row)), **ctx)
    return message(dedupe_key, kind, rendered, recipient=recipient, poll_id=poll_row.id)


# --- what the recruitment steps send -------------------------------------------------------------


def invitation(
    session: Session, poll: Poll, plan: StaffingPlan, rec: StaffRecruitment, member: StaffMember
) -> OutgoingMessage:
    answer_by = plan.recruitment_close - dt.timedelta(
        days=staffing_rules().recruitment.respond_days_before_close
    )
    return staff_message(
        f"staff:invite:{poll.id}:{member.id}",
        "staff-invitation",
        member.email,
        "staff_invitation",
        poll,
        person=person_ctx(member),
        poll=poll_ctx(poll, plan),
        days=duty_lines(session, poll, member),
        link=respond_url(session, invitation_token(rec, plan)),
        answer_by=when(answer_by),
    )


def invitation_chaser(
    session: Session, poll: Poll, plan: StaffingPlan, rec: StaffRecruitment, member: StaffMember, n: int
) -> OutgoingMessage:
    return staff_message(
        f"staff:chase:{poll.id}:{member.id}:{n}",
        "staff-chaser",
        member.email,
        "staff_chaser",
        poll,
        person=person_ctx(member),
        poll=poll_ctx(poll, plan),
        offer=None,
        number=n,
        days=duty_lines(session, poll, member),
        link=respond_url(session, invitation_token(rec, plan)),
    )


def offer_chaser(
    session: Session, poll: Poll, plan: StaffingPlan, offer: StaffOffer, member: StaffMember, post: StaffPost
) -> OutgoingMessage:
    lapses = offer.offered_at + dt.timedelta(days=staffing_rules().recruitment.offer_lapses_days)
    return staff_message(
        f"staff:offer-chase:{offer.id}:{offer.offered_at.isoformat()}",
        "staff-chaser",
        member.email,
        "staff_chaser",
        poll,
        person=person_ctx(member),
        poll=poll_ctx(poll, plan),
        offer={**post_ctx(session, post), "lapses": when(lapses)},
        number=1,
        days=[],
        link=respond_url(session, offer_token(offer, poll)),
    )


def offer_message(
    session: Session, poll: Poll, plan: StaffingPlan, offer: StaffOffer, member: StaffMember, post: StaffPost
) -> OutgoingMessage:
    answer_by = offer.offered_at + dt.timedelta(days=staffing_rules().recruitment.offer_lapses_days)
    return staff_message(
        f"staff:offer:{offer.id}:{offer.offered_at.isoformat()}",
        "staff-offer",
        member.email,
        "staff_offer",
        poll,
        person=person_ctx(member),
        poll=poll_ctx(poll, plan),
        post=post_ctx(session, post),
        answer_by=when(answer_by),
        link=respond_url(session, offer_token(offer, poll)),
    )


def training_request(
    session: Session,
    poll: Poll,
    plan: StaffingPlan,
    offer: StaffOffer,
    member: StaffMember,
    sessions: list[TrainingSession],
) -> OutgoingMessage:
    return staff_message(
        f"staff:training-invite:{poll.id}:{member.id}",
        "staff-training",
        member.email,
        "staff_training",
        poll,
        person=person_ctx(member),
        poll=poll_ctx(poll, plan),
        booking=None,
        sessions=[session_ctx(session, s) for s in sessions],
        link=respond_url(session, offer_token(offer, poll)),
    )


# --- what answers send ---------------------------------------------------------------------------


def queue_answer_messages(session: Session, found: Resolved, answer: staff_recruitment.Answer) -> None:
    """An answer to an invitation: its confirmation, and to the officers any posts it released."""
    rec = found.recruitment
    messages = [
        staff_message(
            f"staff:answer:{rec.id}:{rec.responded_at.isoformat()}",
            "staff-answer",
            found.member.email,
            "staff_answer",
            found.poll,
            person=person_ctx(found.member),
            poll=poll_ctx(found.poll, found.plan),
            available=answer.accepted,
            days=[long_date(dt.date.fromisoformat(d)) for d in rec.available_dates],
            roles=[staff.label(r) for r in rec.roles],
            link=respond_url(session, invitation_token(rec, found.plan)),
        )
    ]
    if answer.withdrawn or answer.released:
        messages += withdrawal_notices(session, found, answer.released, "changed their availability")
    enqueue(session, messages)


def queue_offer_messages(session: Session, found: Resolved, answer: staff_recruitment.Answer) -> None:
    """An answer to an offer: the appointment (with its letter and training), or to the officers
    the post it leaves vacant."""
    if not answer.accepted:
        verb = "withdrew from" if answer.withdrawn else "declined"
        enqueue(session, withdrawal_notices(session, found, answer.released, verb))
        return
    token = offer_token(found.offer, found.poll)
    sessions = [s for s in staff_training.sessions_of(session, found.poll) if s.starts_at > utcnow()]
    appointed = staff_message(
        f"staff:appointed:{found.offer.id}:{found.offer.answered_at.isoformat()}",
        "staff-appointment",
        found.member.email,
        "staff_appointment",
        found.poll,
        person=person_ctx(found.member),
        poll=poll_ctx(found.poll, found.plan),
        post=post_ctx(session, found.post),
        letter=letter_url(session, token),
        link=respond_url(session, token),
        training_needed=found.post.role in staffing_rules().training.required_for,
        sessions=[session_ctx(session, s) for s in sessions],
    )
    enqueue(session, [appointed])


def withdrawal_notices(
    session: Session, found: Resolved, posts: list[StaffPost], verb: str
) -> list[OutgoingMessage]:
    if not posts:
        return []
    stamp = utcnow().isoformat()
    reason = found.offer.reason if found.offer else found.recruitment.note if found.recruitment else None
    return [
        staff_message(
            f"staff:withdrawn:{found.poll.id}:{found.member.id}:{officer.id}:{stamp}",
            "staff-withdrawn",
            officer.email,
            "staff_withdrawn",
            found.poll,
            officer={"name": officer.name},
            person=person_ctx(found.member),
            poll=poll_ctx(found.poll, found.plan),
            verb=verb,
            posts=[p.label for p in posts],
            reason=reason,
        )
        for officer in holders(session, STAFFING_OFFICERS)
    ]


def queue_booking_message(session: Session, found: Resolved, code: str) -> None:
    training = staff_training.find_session(session, found.poll, code)
    booking = session.scalars(
        select(TrainingBooking).where(
            TrainingBooking.session_id == training.id, TrainingBooking.staff_id == found.member.id
        )
    ).one()
    booked = staff_message(
        f"staff:training-booked:{booking.id}:{booking.booked_at.isoformat()}",
        "staff-training",
        found.member.email,
        "staff_training",
        found.poll,
        person=person_ctx(found.member),
        poll=poll_ctx(found.poll, found.plan),
        booking=session_ctx(session, training),
        sessions=[],
        link=respond_url(session, offer_token(found.offer, found.poll)),
    )
    enqueue(session, [booked])
