"""Staff letters, as PDF: the letter of appointment and the invitation to training, rendered
through the one strict renderer the notices use (``tasks.documents.rendering``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from store import staff
from store.identity.council import council_details, public_address
from store.models import Poll, utcnow
from store.models.staff import StaffMember, StaffOffer, StaffPost
from store.staff import training as staff_training
from store.staff.config import fee_schedule, staffing_rules
from tasks.documents.rendering import html_to_pdf, render_html
from tasks.staffing.links import offer_token, respond_url
from tasks.staffing.messages import poll_ctx, post_ctx, session_ctx
from timetables.clock import local


def _held_posts(session: Session, poll: Poll, member: StaffMember, statuses=("accepted",)) -> list[StaffPost]:
    return list(
        session.scalars(
            select(StaffPost)
            .where(
                StaffPost.poll_id == poll.id, StaffPost.staff_id == member.id, StaffPost.status.in_(statuses)
            )
            .order_by(StaffPost.duty_date, StaffPost.id)
        ).all()
    )


def letter_context(session: Session, poll: Poll, member: StaffMember, statuses=("accepted",)) -> dict:
    """Everything an appointment letter or training invitation says about one person."""
    plan = staff.require_plan(session, poll)
    posts = _held_posts(session, poll, member, statuses)
    if not posts:
        raise staff.StaffingError(f"{member.email} holds no {' or '.join(statuses)} post at {poll.key}")
    offer = session.scalars(
        select(StaffOffer).where(StaffOffer.post_id == posts[0].id, StaffOffer.staff_id == member.id)
    ).first()
    booking = staff_training.booked_session(session, poll, member)
    rules = staffing_rules()
    fees = fee_schedule()
    now = local(utcnow())
    return {
        "council": council_details(session),
        "issued": f"{now.day} {now:%B %Y}",
        "reference": f"{poll.key} / {member.payroll_ref or member.email}",
        "person": {
            "name": member.name,
            "email": member.email,
            "address": member.address,
            "postcode": member.postcode,
        },
        "poll": poll_ctx(poll, plan),
        "posts": [post_ctx(session, p) for p in posts],
        "station_roles": any(p.kind == "station" for p in posts),
        "training": session_ctx(session, booking) if booking else None,
        "training_needed": any(p.role in rules.training.required_for for p in posts),
        "sessions": [
            session_ctx(session, s)
            for s in staff_training.sessions_of(session, poll)
            if s.starts_at > utcnow()
        ],
        "training_fee": f"£{fees.training.fee:,.2f}" if fees.training.fee else None,
        "link": respond_url(session, offer_token(offer, poll)) if offer else public_address(session),
    }


def appointment_letter(session: Session, poll: Poll, member: StaffMember) -> bytes:
    context = letter_context(session, poll, member)
    return html_to_pdf(render_html("staff/appointment_letter.html.j2", context, name="appointment letter"))


def training_invitation(session: Session, poll: Poll, member: StaffMember) -> bytes:
    context = letter_context(session, poll, member, ("offered", "accepted"))
    return html_to_pdf(render_html("staff/training_invitation.html.j2", context, name="training invitation"))
