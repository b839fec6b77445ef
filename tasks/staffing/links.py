"""The personal links in staffing messages: every invitation and offer carries a signed link
(``tasks.messaging.tokens``) to the answer page (``pollflow.web.staff``). An invitation's expires
when recruitment closes; an offer's at the end of polling day, so that a person can still
withdraw, and get a replacement found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store import staff
from store.identity.council import public_address
from store.models import Poll
from store.models.staff import StaffingPlan, StaffMember, StaffOffer, StaffPost, StaffRecruitment
from store.staff import recruitment as staff_recruitment
from tasks.messaging.tokens import TokenError, sign, verify
from timetables.clock import LONDON

INVITATION = "staff-invitation"
OFFER = "staff-offer"


def respond_url(session: Session, token: str) -> str:
    return f"{public_address(session)}/staff/respond/{token}"


def letter_url(session: Session, token: str) -> str:
    return f"{public_address(session)}/staff/letter/{token}.pdf"


def invitation_token(rec: StaffRecruitment, plan: StaffingPlan) -> str:
    return sign(INVITATION, {"r": rec.id}, expires=plan.recruitment_close)


def offer_token(offer: StaffOffer, poll: Poll) -> str:
    end = dt.datetime.combine(poll.poll_date + dt.timedelta(days=1), dt.time(), tzinfo=LONDON)
    return sign(OFFER, {"o": offer.id}, expires=end)


@dataclass
class Resolved:
    kind: str  # invitation | offer
    poll: Poll
    member: StaffMember
    plan: StaffingPlan
    recruitment: StaffRecruitment | None = None
    offer: StaffOffer | None = None
    post: StaffPost | None = None


def resolve(session: Session, token: str, now: dt.datetime | None = None) -> Resolved:
    """What a link is for; TokenError if it is forged, expired or names nothing."""
    for kind in (INVITATION, OFFER):
        try:
            data = verify(kind, token, now=now)
        except TokenError as exc:
            if "expired" in str(exc):
                raise
            continue
        if kind == INVITATION:
            rec = session.get(StaffRecruitment, data.get("r"))
            if rec is None:
                break
            poll = session.get(Poll, rec.poll_id)
            return Resolved(
                "invitation",
                poll,
                session.get(StaffMember, rec.staff_id),
                staff.require_plan(session, poll),
                recruitment=rec,
            )
        offer = session.get(StaffOffer, data.get("o"))
        if offer is None:
            break
        poll = session.get(Poll, offer.poll_id)
        return Resolved(
            "offer",
            poll,
            session.get(StaffMember, offer.staff_id),
            staff.require_plan(session, poll),
            offer=offer,
            post=session.get(StaffPost, offer.post_id),
        )
    raise TokenError("this link is not valid: it has been changed or is for something else")


def link_for(session: Session, poll: Poll, email: str) -> tuple[str, str]:
    """A person's current link (for an officer taking an answer by phone): their open offer's,
    else their invitation's. Returns (kind, url)."""
    member = staff.find_staff(session, email)
    offer = session.scalars(
        select(StaffOffer)
        .where(
            StaffOffer.poll_id == poll.id,
            StaffOffer.staff_id == member.id,
            StaffOffer.status.in_(("offered", "accepted")),
        )
        .order_by(StaffOffer.id.desc())
    ).first()
    if offer is not None:
        return "offer", respond_url(session, offer_token(offer, poll))
    rec = staff_recruitment.recruitment_for(session, poll, member)
    if rec is None:
        raise staff.StaffingError(
            f"{member.email} has not been invited to {poll.key}: run `pollflow recruit`"
        )
    return "invitation", respond_url(session, invitation_token(rec, staff.require_plan(session, poll)))
