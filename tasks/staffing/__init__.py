"""Recruiting staff: the steps of the recruitment flow as plain functions (each one transaction,
so a crash loses nothing and a rerun duplicates nothing), the messages each step queues in the
outbox (each exactly once, by its dedupe key), answers taken from the web page and the command
line, and thin Prefect task wrappers at the end.

Links: every invitation and offer carries a personal signed link (tasks/tokens.py) to the answer
page (pollflow/web_staff.py): an invitation's expires when recruitment closes, an offer's at the
end of polling day (so that a person can still withdraw, and get a replacement found).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from store import staff
from store.db import get_engine, session_scope
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
from store.queries import find_poll
from store.staff import experience as staff_experience
from store.staff import need as staff_need
from store.staff import posting as staff_posting
from store.staff import recruitment as staff_recruitment
from store.staff import training as staff_training
from store.staff import work as staff_work
from store.staff.config import fee_schedule, staffing_rules
from tasks import settings
from tasks.messaging import delivery
from tasks.messaging.render import render, when
from tasks.messaging.tokens import TokenError, sign, verify
from tasks.settings import public_url
from timetables.clock import LONDON, local, long_date

INVITATION = "staff-invitation"
OFFER = "staff-offer"
# Told when a member of staff withdraws or changes their availability.
STAFFING_OFFICERS = ("staffing-officer", "electoral-services-manager")


def respond_url(token: str) -> str:
    return f"{public_url()}/staff/respond/{token}"


def letter_url(token: str) -> str:
    return f"{public_url()}/staff/letter/{token}.pdf"


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


# --- what messages say --------------------------------------------------------------------------


def _council() -> dict:
    return staffing_rules().council.model_dump()


def _poll_ctx(poll: Poll, plan: StaffingPlan) -> dict:
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


DUTIES = (
    ("at a polling station", ("presiding-officer", "poll-clerk", "polling-station-inspector")),
    ("the count", ("count-supervisor", "count-assistant")),
    ("postal vote opening", ("postal-vote-opener",)),
)


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


def _person(member: StaffMember) -> dict:
    return {"name": member.name, "email": member.email}


def _message(
    dedupe_key: str, kind: str, recipient: str, template: str, poll_row: Poll, **ctx
) -> OutgoingMessage:
    """A staffing email (to a member of staff or an officer), rendered with the council's details."""
    rendered = render(template, council=_council(), **ctx)
    return message(dedupe_key, kind, rendered, recipient=recipient, poll_id=poll_row.id)


# --- the steps of the recruitment flow (each its own transaction) -------------------------------


@dataclass
class Prepared:
    poll_id: int
    poll_key: str
    poll_title: str
    posts: int
    posts_added: int
    posts_removed: list[str]
    surplus_held: list[str]
    warnings: list[str]
    ballot_papers: int
    postal_packets: int
    work_added: list[str]


def prepare(
    election_id: str,
    actor: str,
    ballot_papers: int | None = None,
    postal_votes: int | None = None,
    areas: list[str] | None = None,
    as_of: dt.datetime | None = None,
) -> Prepared:
    """The poll's staffing plan, its posts (the need) and its staffing work items."""
    rules = staffing_rules()
    with session_scope() as session:
        poll = find_poll(session, election_id)
        plan = staff.ensure_plan(
            session,
            poll,
            rules,
            actor,
            ballot_papers=ballot_papers,
            postal_votes=postal_votes,
            areas=areas,
            as_of=as_of,
        )
        need = staff_need.compute_need(session, poll, plan, rules)
        changes = staff_need.sync_posts(session, poll, need, actor)
        work = staff_work.sync_work(session, poll, plan, rules, actor)
        return Prepared(
            poll.id,
            poll.key,
            poll.title,
            len(need.posts),
            len(changes.added),
            changes.removed,
            changes.surplus_held,
            need.warnings,
            need.ballot_papers,
            need.postal_packets,
            work.added,
        )


def check_recruitable(session: Session, election_id: str, areas: list[str] | None = None) -> Poll:
    """Refuse at once (before Prefect starts) what recruitment would refuse."""
    rules = staffing_rules()
    poll = find_poll(session, election_id)
    dates = staff.staffing_dates(session, poll, rules)
    existing = staff.get_plan(session, poll)
    probe = StaffingPlan(
        poll_id=poll.id,
        recruitment_close=dates.recruitment_close,
        training_deadline=dates.training_deadline,
        count_date=dates.count_date,
        areas=sorted(areas) if areas is not None else (existing.areas if existing else []),
    )
    staff_need.compute_need(session, poll, probe, rules)
    return poll


def send_invitations(poll_id: int, as_of: dt.datetime, actor: str) -> int:
    """Invite everyone not yet invited, while recruitment is open; queue their emails."""
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        if as_of >= plan.recruitment_close:
            return 0
        new = staff_recruitment.invite(session, poll, plan, actor, as_of)
        messages = [
            _message(
                f"staff:invite:{poll.id}:{member.id}",
                "staff-invitation",
                member.email,
                "staff_invitation",
                poll,
                person=_person(member),
                poll=_poll_ctx(poll, plan),
                days=duty_lines(session, poll, member),
                link=respond_url(invitation_token(rec, plan)),
                answer_by=when(
                    plan.recruitment_close
                    - dt.timedelta(days=staffing_rules().recruitment.respond_days_before_close)
                ),
            )
            for rec, member in new
        ]
        return enqueue(session, messages)


def send_chasers(poll_id: int, as_of: dt.datetime, actor: str) -> dict:
    """Chasers to those who have not answered an invitation, and to those sitting on an offer."""
    rules = staffing_rules()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        messages = []
        invites = staff_recruitment.due_chasers(session, poll, plan, rules, as_of)
        for rec, member, n in invites:
            messages.append(
                _message(
                    f"staff:chase:{poll.id}:{member.id}:{n}",
                    "staff-chaser",
                    member.email,
                    "staff_chaser",
                    poll,
                    person=_person(member),
                    poll=_poll_ctx(poll, plan),
                    offer=None,
                    number=n,
                    days=duty_lines(session, poll, member),
                    link=respond_url(invitation_token(rec, plan)),
                )
            )
        offers = staff_recruitment.due_offer_chasers(session, poll, rules, as_of)
        for offer, member, post in offers:
            lapses = offer.offered_at + dt.timedelta(days=rules.recruitment.offer_lapses_days)
            messages.append(
                _message(
                    f"staff:offer-chase:{offer.id}:{offer.offered_at.isoformat()}",
                    "staff-chaser",
                    member.email,
                    "staff_chaser",
                    poll,
                    person=_person(member),
                    poll=_poll_ctx(poll, plan),
                    offer={**post_ctx(session, post), "lapses": when(lapses)},
                    number=1,
                    days=[],
                    link=respond_url(offer_token(offer, poll)),
                )
            )
        if invites or offers:
            from store.audit import record

            record(
                session,
                actor,
                "staff chased",
                poll_id=poll.id,
                subject=poll.key,
                details={"invitations": len(invites), "offers": len(offers)},
            )
        return {"invitations": len(invites), "offers": len(offers), "queued": enqueue(session, messages)}


def lapse(poll_id: int, as_of: dt.datetime, actor: str) -> dict:
    """Unanswered invitations lapse when recruitment closes; unanswered offers after their time."""
    rules = staffing_rules()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        invitations = staff_recruitment.lapse_invitations(session, poll, plan, as_of, actor)
        offers = staff_recruitment.lapse_offers(session, poll, rules, as_of, actor)
        return {"invitations": invitations, "offers": [p.key for _, _, p in offers]}


def fill(poll_id: int, actor: str, first: bool = False) -> dict | None:
    """Allocate the vacant posts (all of them the first time; afterwards replacements from the
    reserve list, only once allocation has been run by a manager). None: not allocated yet."""
    rules = staffing_rules()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        if plan.allocated_at is None and not first:
            return None
        allocated = staff_posting.run_allocation(session, poll, rules)
        staff_posting.save_allocation(session, poll, plan, allocated, actor)
        return {
            **allocated.summary,
            "unfilled_reasons": sorted(set(allocated.result.unfilled.values())),
        }


def send_offers(poll_id: int, actor: str, as_of: dt.datetime | None = None) -> int:
    """Offer every allocated post (once), each by email with its link."""
    rules = staffing_rules()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        offers = staff_recruitment.make_offers(session, poll, as_of)
        messages = []
        for offer, member, post in offers:
            messages.append(
                _message(
                    f"staff:offer:{offer.id}:{offer.offered_at.isoformat()}",
                    "staff-offer",
                    member.email,
                    "staff_offer",
                    poll,
                    person=_person(member),
                    poll=_poll_ctx(poll, plan),
                    post=post_ctx(session, post),
                    answer_by=when(offer.offered_at + dt.timedelta(days=rules.recruitment.offer_lapses_days)),
                    link=respond_url(offer_token(offer, poll)),
                )
            )
        if offers:
            from store.audit import record

            record(
                session,
                actor,
                "offers made",
                poll_id=poll.id,
                subject=poll.key,
                details={"offers": len(offers)},
            )
        return enqueue(session, messages)


def send_training_reminders(poll_id: int, as_of: dt.datetime) -> int:
    """Those offered or appointed to a post that needs training, not yet booked on a session,
    are asked to book (once), when there are sessions to book."""
    rules = staffing_rules()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        sessions = [s for s in staff_training.sessions_of(session, poll) if s.starts_at > as_of]
        if not sessions or as_of >= plan.training_deadline:
            return 0
        booked = staff_training.booked_ids(session, poll)
        messages = []
        for member, posts in staff_training.untrained(session, poll, rules):
            if member.id in booked:
                continue
            offer = session.scalars(
                select(StaffOffer).where(
                    StaffOffer.post_id == posts[0].id,
                    StaffOffer.staff_id == member.id,
                    StaffOffer.status.in_(("offered", "accepted")),
                )
            ).first()
            if offer is None:
                continue
            messages.append(
                _message(
                    f"staff:training-invite:{poll.id}:{member.id}",
                    "staff-training",
                    member.email,
                    "staff_training",
                    poll,
                    person=_person(member),
                    poll=_poll_ctx(poll, plan),
                    booking=None,
                    sessions=[session_ctx(session, s) for s in sessions],
                    link=respond_url(offer_token(offer, poll)),
                )
            )
        return enqueue(session, messages)


def after_poll(poll_id: int, as_of: dt.datetime, actor: str) -> int:
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        return staff_experience.record_experience(session, poll, plan, as_of, actor)


def update_work(poll_id: int, actor: str) -> dict:
    rules = staffing_rules()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        synced = staff_work.sync_work(session, poll, plan, rules, actor)
        return {"added": synced.added, "completed": synced.completed, "reopened": synced.reopened}


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


# --- answers, from the web page and the command line --------------------------------------------


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
                _queue_answer_messages(session, found, answer)
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
        answer = staff_recruitment.answer_offer(
            session, found.offer, accept, via=via, actor=who, reason=reason
        )
        if answer.changed:
            _queue_offer_messages(session, found, answer)
        responded = Responded(
            "offer",
            accept,
            answer.changed,
            found.poll.title,
            found.member.name,
            found.member.email,
            f"{staff.label(found.post.role)}, {found.post.label}"
            + (" (accepted)" if accept else " (withdrawn)" if answer.withdrawn else " (declined)"),
            [p.key for p in answer.released],
            letter_link=letter_url(token) if found.offer.status == "accepted" else None,
        )
        if accept and training:
            _, booked = staff_training.book(session, found.poll, found.member, training, who)
            if booked:
                _queue_booking_message(session, found, training)
        return responded


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
            _queue_booking_message(session, found, code)
        return changed


def _queue_answer_messages(session: Session, found: Resolved, answer: staff_recruitment.Answer) -> None:
    rec = found.recruitment
    messages = [
        _message(
            f"staff:answer:{rec.id}:{rec.responded_at.isoformat()}",
            "staff-answer",
            found.member.email,
            "staff_answer",
            found.poll,
            person=_person(found.member),
            poll=_poll_ctx(found.poll, found.plan),
            available=answer.accepted,
            days=[long_date(dt.date.fromisoformat(d)) for d in rec.available_dates],
            roles=[staff.label(r) for r in rec.roles],
            link=respond_url(invitation_token(rec, found.plan)),
        )
    ]
    if answer.withdrawn or answer.released:
        messages += _withdrawal_notices(session, found, answer.released, "changed their availability")
    enqueue(session, messages)


def _queue_offer_messages(session: Session, found: Resolved, answer: staff_recruitment.Answer) -> None:
    if answer.accepted:
        token = offer_token(found.offer, found.poll)
        sessions = [s for s in staff_training.sessions_of(session, found.poll) if s.starts_at > utcnow()]
        enqueue(
            session,
            [
                _message(
                    f"staff:appointed:{found.offer.id}:{found.offer.answered_at.isoformat()}",
                    "staff-appointment",
                    found.member.email,
                    "staff_appointment",
                    found.poll,
                    person=_person(found.member),
                    poll=_poll_ctx(found.poll, found.plan),
                    post=post_ctx(session, found.post),
                    letter=letter_url(token),
                    link=respond_url(token),
                    training_needed=found.post.role in staffing_rules().training.required_for,
                    sessions=[session_ctx(session, s) for s in sessions],
                )
            ],
        )
        return
    verb = "withdrew from" if answer.withdrawn else "declined"
    enqueue(session, _withdrawal_notices(session, found, answer.released, verb))


def _withdrawal_notices(
    session: Session, found: Resolved, posts: list[StaffPost], verb: str
) -> list[OutgoingMessage]:
    if not posts:
        return []
    stamp = utcnow().isoformat()
    return [
        _message(
            f"staff:withdrawn:{found.poll.id}:{found.member.id}:{officer.id}:{stamp}",
            "staff-withdrawn",
            officer.email,
            "staff_withdrawn",
            found.poll,
            officer={"name": officer.name},
            person=_person(found.member),
            poll=_poll_ctx(found.poll, found.plan),
            verb=verb,
            posts=[p.label for p in posts],
            reason=found.offer.reason
            if found.offer
            else found.recruitment.note
            if found.recruitment
            else None,
        )
        for officer in holders(session, STAFFING_OFFICERS)
    ]


def _queue_booking_message(session: Session, found: Resolved, code: str) -> None:
    training = staff_training.find_session(session, found.poll, code)
    booking = session.scalars(
        select(TrainingBooking).where(
            TrainingBooking.session_id == training.id, TrainingBooking.staff_id == found.member.id
        )
    ).one()
    enqueue(
        session,
        [
            _message(
                f"staff:training-booked:{booking.id}:{booking.booked_at.isoformat()}",
                "staff-training",
                found.member.email,
                "staff_training",
                found.poll,
                person=_person(found.member),
                poll=_poll_ctx(found.poll, found.plan),
                booking=session_ctx(session, training),
                sessions=[],
                link=respond_url(offer_token(found.offer, found.poll)),
            )
        ],
    )


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
        return "offer", respond_url(offer_token(offer, poll))
    rec = staff_recruitment.recruitment_for(session, poll, member)
    if rec is None:
        raise staff.StaffingError(
            f"{member.email} has not been invited to {poll.key}: run `pollflow recruit`"
        )
    return "invitation", respond_url(invitation_token(rec, staff.require_plan(session, poll)))


# --- Prefect task wrappers ----------------------------------------------------------------------
# Built on first use (``from tasks.staffing import invite_task``), so that the answer page and the
# commands that only read or answer never import Prefect.

_STEPS = {
    "prepare_task": ("staffing: plan the need", lambda: prepare, {}),
    "invite_task": ("staffing: invite", lambda: send_invitations, {}),
    "chase_task": ("staffing: chase", lambda: send_chasers, {}),
    "lapse_task": ("staffing: lapse", lambda: lapse, {}),
    "fill_task": ("staffing: allocate", lambda: fill, {}),
    "offer_task": ("staffing: offer", lambda: send_offers, {}),
    "training_task": ("staffing: training reminders", lambda: send_training_reminders, {}),
    "after_poll_task": ("staffing: after the poll", lambda: after_poll, {}),
    "work_task": ("staffing: work items", lambda: update_work, {}),
    "purge_task": ("staffing: purge bank and NI details", lambda: purge, {}),
    "deliver_task": (
        "staffing: deliver",
        lambda: deliver_outbox,
        {"retries": 2, "retry_delay_seconds": [5, 30]},
    ),
}
_built: dict = {}


def __getattr__(name: str):
    if name not in _STEPS:
        raise AttributeError(f"module 'tasks.staffing' has no attribute '{name}'")
    if name not in _built:
        from prefect import task
        from prefect.cache_policies import NONE

        title, fn, options = _STEPS[name]
        _built[name] = task(name=title, cache_policy=NONE, persist_result=False, **options)(fn())
    return _built[name]


def purge(as_of: dt.datetime, actor: str, dry_run: bool = False) -> dict:
    """Delete bank and NI details past their retention period (config retention)."""
    from store.staff.crypto import purge_due

    days = staffing_rules().retention.sensitive_data_days
    with session_scope() as session:
        result = purge_due(session, as_of, days, actor, dry_run=dry_run)
        return {"purged": result.purged, "kept": result.kept, "retention_days": days, "dry_run": dry_run}


def deliver_outbox() -> delivery.DeliveryReport:
    return delivery.deliver(get_engine(), settings.load())


def open_polls(as_of: dt.datetime) -> list[str]:
    """Polls whose staffing has started and whose polling day is not long past."""
    with session_scope() as session:
        rows = session.execute(
            select(Poll.key)
            .join(StaffingPlan, StaffingPlan.poll_id == Poll.id)
            .where(Poll.poll_date >= (as_of - dt.timedelta(days=30)).date(), Poll.status == "planned")
            .order_by(Poll.poll_date)
        ).all()
        return [r[0] for r in rows]


# --- letters ------------------------------------------------------------------------------------


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
        "council": rules.council.model_dump(),
        "issued": f"{now.day} {now:%B %Y}",
        "reference": f"{poll.key} / {member.payroll_ref or member.email}",
        "person": {
            "name": member.name,
            "email": member.email,
            "address": member.address,
            "postcode": member.postcode,
        },
        "poll": _poll_ctx(poll, plan),
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
        "link": respond_url(offer_token(offer, poll)) if offer else public_url(),
    }


def appointment_letter(session: Session, poll: Poll, member: StaffMember) -> bytes:
    from tasks.documents.rendering import html_to_pdf, render_html

    context = letter_context(session, poll, member)
    return html_to_pdf(render_html("staff/appointment_letter.html.j2", context, name="appointment letter"))


def training_invitation(session: Session, poll: Poll, member: StaffMember) -> bytes:
    from tasks.documents.rendering import html_to_pdf, render_html

    context = letter_context(session, poll, member, ("offered", "accepted"))
    return html_to_pdf(render_html("staff/training_invitation.html.j2", context, name="training invitation"))
