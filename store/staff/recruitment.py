"""Recruiting people for a poll's posts: invitations to everyone on the staff register who can do
a needed role, their answers (which days, which roles), offers of allocated posts and the answers
to them, withdrawals, and the chasers and lapses that keep recruitment moving. A post given up by
any of these is released to the reserve list for the next allocation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.models import Poll, utcnow
from store.models.staff import StaffingPlan, StaffMember, StaffOffer, StaffPost, StaffRecruitment
from store.staff import StaffingError, find_staff, require_plan
from store.staff.config import StaffingRules
from store.staff.need import active_posts
from timetables.clock import local

CLOSED = ("declined", "withdrawn", "lapsed", "retracted")  # offers never made again


# --- invitations and answers --------------------------------------------------------------------


def duty_days(session: Session, poll: Poll) -> dict[dt.date, set[str]]:
    """The days the poll needs people, and the roles needed each day."""
    days: dict[dt.date, set[str]] = defaultdict(set)
    for post in active_posts(session, poll):
        days[post.duty_date].add(post.role)
    return dict(days)


def invite(
    session: Session, poll: Poll, plan: StaffingPlan, actor: str, as_of: dt.datetime | None = None
) -> list[tuple[StaffRecruitment, StaffMember]]:
    """Invite every active person on the register who can do a role the poll needs and has not
    been invited yet (people added to the register later are invited on the next run)."""
    needed = {role for roles in duty_days(session, poll).values() for role in roles}
    invited = set(
        session.scalars(select(StaffRecruitment.staff_id).where(StaffRecruitment.poll_id == poll.id))
    )
    new = []
    for member in session.scalars(select(StaffMember).where(StaffMember.active).order_by(StaffMember.id)):
        if member.id in invited or not set(member.roles) & needed:
            continue
        row = StaffRecruitment(poll_id=poll.id, staff_id=member.id, invited_at=as_of or utcnow())
        session.add(row)
        new.append((row, member))
    session.flush()
    if new:
        if plan.invitations_sent_at is None:
            plan.invitations_sent_at = utcnow()
        record(
            session,
            actor,
            "staff invited",
            poll_id=poll.id,
            subject=poll.key,
            details={"invited": len(new), "people": [m.email for _, m in new][:200]},
        )
    return new


def recruitment_for(session: Session, poll: Poll, member: StaffMember) -> StaffRecruitment | None:
    return session.scalars(
        select(StaffRecruitment).where(
            StaffRecruitment.poll_id == poll.id, StaffRecruitment.staff_id == member.id
        )
    ).first()


@dataclass
class Answer:
    poll: Poll
    member: StaffMember
    accepted: bool
    changed: bool
    released: list[StaffPost] = field(default_factory=list)  # posts given up by this answer
    recruitment: StaffRecruitment | None = None
    offer: StaffOffer | None = None
    post: StaffPost | None = None
    withdrawn: bool = False  # an accepted post given up


def answer_invitation(
    session: Session,
    recruitment: StaffRecruitment,
    accept: bool,
    *,
    dates: list[dt.date] | None = None,
    roles: list[str] | None = None,
    via: str,
    actor: str,
    note: str | None = None,
    as_of: dt.datetime | None = None,
) -> Answer:
    """Yes (on these days, in these roles) or no. Answering again replaces the answer until
    recruitment closes; giving up a day or role releases any post held that day or in it."""
    poll = session.get(Poll, recruitment.poll_id)
    member = session.get(StaffMember, recruitment.staff_id)
    plan = require_plan(session, poll)
    moment = as_of or utcnow()
    if moment > plan.recruitment_close and recruitment.status != "available":
        raise StaffingError(
            f"recruitment for {poll.title} closed on {local(plan.recruitment_close):%d %B %Y}: "
            "contact the elections office"
        )
    days = duty_days(session, poll)
    possible = sorted(d for d, needed in days.items() if needed & set(member.roles))
    if accept:
        chosen_days = sorted(set(dates)) if dates is not None else possible
        bad = [d for d in chosen_days if d not in possible]
        if bad:
            raise StaffingError(
                f"{', '.join(d.isoformat() for d in bad)}: not a day {member.email} can work at this poll; "
                f"the days are {', '.join(d.isoformat() for d in possible) or 'none'}"
            )
        if not chosen_days:
            raise StaffingError("say which days you can work, or decline")
        chosen_roles = list(dict.fromkeys(roles)) if roles else list(member.roles)
        bad_roles = [r for r in chosen_roles if r not in member.roles]
        if bad_roles:
            raise StaffingError(
                f"{', '.join(bad_roles)}: not a role {member.email} is registered for; "
                f"their roles are {', '.join(member.roles)}"
            )
        new = ("available", [d.isoformat() for d in chosen_days], chosen_roles)
    else:
        new = ("declined", [], [])
    current = (recruitment.status, list(recruitment.available_dates), list(recruitment.roles))
    answer = Answer(poll, member, accept, changed=current != new, recruitment=recruitment)
    if not answer.changed and recruitment.responded_at is not None:
        return answer
    recruitment.status, recruitment.available_dates, recruitment.roles = new
    recruitment.responded_at, recruitment.responded_via, recruitment.note = moment, via, note
    # Posts this answer gives up.
    held = session.scalars(
        select(StaffPost).where(StaffPost.poll_id == poll.id, StaffPost.staff_id == member.id)
    ).all()
    for post in held:
        if not accept or post.duty_date.isoformat() not in new[1] or post.role not in new[2]:
            answer.released.append(post)
            answer.withdrawn = answer.withdrawn or post.status == "accepted"
            release_post(
                session, post, "withdrawn" if post.status == "accepted" else "declined", "answer changed"
            )
    record(
        session,
        actor,
        "staff answered" if current[0] == "invited" else "staff answer changed",
        poll_id=poll.id,
        subject=member.email,
        details={
            "available": accept,
            "days": new[1],
            "roles": new[2],
            "via": via,
            "released_posts": [p.key for p in answer.released],
        },
    )
    return answer


def release_post(session: Session, post: StaffPost, offer_status: str, reason: str | None) -> None:
    """Vacate a post; its open offer (if any) is closed with ``offer_status``."""
    if post.staff_id is not None:
        offer = session.scalars(
            select(StaffOffer).where(
                StaffOffer.post_id == post.id,
                StaffOffer.staff_id == post.staff_id,
                StaffOffer.status.in_(("offered", "accepted")),
            )
        ).first()
        if offer is not None:
            offer.status, offer.answered_at, offer.reason = offer_status, utcnow(), reason
    post.staff_id, post.status, post.pinned, post.pinned_by = None, "vacant", False, None
    post.unfilled_reason = f"{offer_status}: {reason}" if reason else offer_status
    post.updated_at = utcnow()
    session.flush()


def answer_offer(
    session: Session, offer: StaffOffer, accept: bool, *, via: str, actor: str, reason: str | None = None
) -> Answer:
    """Accept an offered post (an appointment), decline it, or (having accepted) withdraw."""
    post = session.get(StaffPost, offer.post_id)
    poll = session.get(Poll, offer.poll_id)
    member = session.get(StaffMember, offer.staff_id)
    answer = Answer(poll, member, accept, changed=False, offer=offer, post=post)
    if accept:
        if offer.status == "accepted":
            return answer
        if offer.status != "offered" or post.staff_id != member.id:
            raise StaffingError(
                f"this offer ({post.label}) is no longer open ({offer.status}): contact the elections office"
            )
        offer.status, offer.answered_at = "accepted", utcnow()
        post.status, post.updated_at = "accepted", utcnow()
        answer.changed = True
        record(
            session,
            actor,
            "staff appointed",
            poll_id=poll.id,
            subject=member.email,
            details={"post": post.key, "via": via},
        )
        return answer
    if offer.status in CLOSED:
        return answer
    if offer.status not in ("offered", "accepted") or post.staff_id != member.id:
        raise StaffingError(f"this offer ({post.label}) is no longer open ({offer.status})")
    answer.withdrawn = offer.status == "accepted"
    release_post(session, post, "withdrawn" if answer.withdrawn else "declined", reason)
    answer.changed = True
    answer.released.append(post)
    record(
        session,
        actor,
        "staff withdrew" if answer.withdrawn else "staff declined offer",
        poll_id=poll.id,
        subject=member.email,
        details={"post": post.key, "via": via, "reason": reason},
    )
    return answer


def withdraw(
    session: Session, poll: Poll, email: str, actor: str, reason: str | None = None
) -> list[StaffPost]:
    """An officer records that a person can no longer work at the poll: every post they hold is
    released (for the reserve list), and they are no longer counted as available."""
    member = find_staff(session, email)
    recruitment = recruitment_for(session, poll, member)
    posts = session.scalars(
        select(StaffPost).where(StaffPost.poll_id == poll.id, StaffPost.staff_id == member.id)
    ).all()
    if recruitment is None and not posts:
        raise StaffingError(f"{member.email} was not invited to {poll.key} and holds no post there")
    released = []
    for post in posts:
        released.append(post)
        release_post(
            session, post, "withdrawn" if post.status == "accepted" else "declined", reason or "withdrawn"
        )
    if recruitment is not None and recruitment.status != "declined":
        recruitment.status, recruitment.responded_at, recruitment.responded_via = (
            "declined",
            utcnow(),
            "officer",
        )
    record(
        session,
        actor,
        "staff withdrawn",
        poll_id=poll.id,
        subject=member.email,
        details={"posts": [p.key for p in released], "reason": reason},
    )
    return released


# --- offers of allocated posts ------------------------------------------------------------------


def make_offers(
    session: Session, poll: Poll, as_of: dt.datetime | None = None
) -> list[tuple[StaffOffer, StaffMember, StaffPost]]:
    """Offer every allocated post to the person it is allocated to (once)."""
    out = []
    moment = as_of or utcnow()
    posts = session.scalars(
        select(StaffPost).where(
            StaffPost.poll_id == poll.id, StaffPost.active, StaffPost.status == "allocated"
        )
    ).all()
    for post in posts:
        offer = session.scalars(
            select(StaffOffer).where(StaffOffer.post_id == post.id, StaffOffer.staff_id == post.staff_id)
        ).first()
        if offer is None:
            offer = StaffOffer(poll_id=poll.id, post_id=post.id, staff_id=post.staff_id, offered_at=moment)
            session.add(offer)
        else:  # offered again (re-pinned after being retracted)
            offer.status, offer.offered_at, offer.answered_at, offer.chasers = "offered", moment, None, 0
        post.status, post.updated_at = "offered", utcnow()
        out.append((offer, session.get(StaffMember, post.staff_id), post))
    session.flush()
    return out


# --- chasers and lapses -------------------------------------------------------------------------


def due_chasers(
    session: Session, poll: Poll, plan: StaffingPlan, rules: StaffingRules, as_of: dt.datetime
) -> list[tuple[StaffRecruitment, StaffMember, int]]:
    """Invitations unanswered long enough to chase (each chaser numbered, sent once)."""
    r = rules.recruitment
    if as_of >= plan.recruitment_close:
        return []
    out = []
    rows = session.execute(
        select(StaffRecruitment, StaffMember)
        .join(StaffMember, StaffMember.id == StaffRecruitment.staff_id)
        .where(StaffRecruitment.poll_id == poll.id, StaffRecruitment.status == "invited")
    ).all()
    for rec, member in rows:
        if rec.chasers >= r.max_chasers:
            continue
        last = rec.last_chased_at or rec.invited_at
        wait = r.chase_after_days if rec.chasers == 0 else r.chase_every_days
        if as_of >= last + dt.timedelta(days=wait):
            rec.chasers += 1
            rec.last_chased_at = as_of
            out.append((rec, member, rec.chasers))
    return out


def lapse_invitations(
    session: Session, poll: Poll, plan: StaffingPlan, as_of: dt.datetime, actor: str
) -> int:
    if as_of < plan.recruitment_close:
        return 0
    rows = session.scalars(
        select(StaffRecruitment).where(
            StaffRecruitment.poll_id == poll.id, StaffRecruitment.status == "invited"
        )
    ).all()
    for rec in rows:
        rec.status = "lapsed"
    if rows:
        record(
            session,
            actor,
            "invitations lapsed",
            poll_id=poll.id,
            subject=poll.key,
            details={"count": len(rows)},
        )
    return len(rows)


def due_offer_chasers(
    session: Session, poll: Poll, rules: StaffingRules, as_of: dt.datetime
) -> list[tuple[StaffOffer, StaffMember, StaffPost]]:
    r = rules.recruitment
    out = []
    rows = session.execute(
        select(StaffOffer, StaffMember, StaffPost)
        .join(StaffMember, StaffMember.id == StaffOffer.staff_id)
        .join(StaffPost, StaffPost.id == StaffOffer.post_id)
        .where(StaffOffer.poll_id == poll.id, StaffOffer.status == "offered", StaffOffer.chasers == 0)
    ).all()
    for offer, member, post in rows:
        if as_of >= offer.offered_at + dt.timedelta(days=r.offer_chase_after_days):
            offer.chasers, offer.last_chased_at = 1, as_of
            out.append((offer, member, post))
    return out


def lapse_offers(
    session: Session, poll: Poll, rules: StaffingRules, as_of: dt.datetime, actor: str
) -> list[tuple[StaffOffer, StaffMember, StaffPost]]:
    """Offers unanswered past ``offer_lapses_days`` lapse: the post goes to the reserve list."""
    limit = dt.timedelta(days=rules.recruitment.offer_lapses_days)
    out = []
    rows = session.execute(
        select(StaffOffer, StaffMember, StaffPost)
        .join(StaffMember, StaffMember.id == StaffOffer.staff_id)
        .join(StaffPost, StaffPost.id == StaffOffer.post_id)
        .where(StaffOffer.poll_id == poll.id, StaffOffer.status == "offered")
    ).all()
    for offer, member, post in rows:
        if as_of >= offer.offered_at + limit and post.staff_id == member.id:
            release_post(session, post, "lapsed", "no answer to the offer")
            out.append((offer, member, post))
            # Someone who does not answer an offer is not offered another: they are no longer
            # counted as available (their invitation link, while open, can say yes again).
            rec = recruitment_for(session, poll, member)
            if rec is not None and rec.status == "available":
                rec.status, rec.note = "lapsed", "did not answer an offer"
    if out:
        record(
            session,
            actor,
            "offers lapsed",
            poll_id=poll.id,
            subject=poll.key,
            details={"posts": [p.key for _, _, p in out]},
        )
    return out
