"""The steps of the recruitment flow, as plain functions: plan the need, invite, chase, lapse,
allocate, offer, ask for training, record experience after the poll, keep the staffing work in
step, and purge sensitive details. Each step is one transaction, so a crash loses nothing, and
does nothing twice, so a rerun duplicates nothing (every message has a dedupe key)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store import staff
from store.audit import record
from store.db import session_scope
from store.identity.council import require_ready_to_send
from store.models import Poll
from store.models.staff import StaffingPlan, StaffOffer
from store.outbox import enqueue
from store.queries import find_poll
from store.staff import experience as staff_experience
from store.staff import need as staff_need
from store.staff import posting as staff_posting
from store.staff import recruitment as staff_recruitment
from store.staff import training as staff_training
from store.staff import work as staff_work
from store.staff.config import staffing_rules
from store.staff.crypto import purge_due
from tasks.staffing import messages


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
        if new:
            require_ready_to_send(session, "temporary staff")
        return enqueue(
            session, [messages.invitation(session, poll, plan, rec, member) for rec, member in new]
        )


def send_chasers(poll_id: int, as_of: dt.datetime, actor: str) -> dict:
    """Chasers to those who have not answered an invitation, and to those sitting on an offer."""
    rules = staffing_rules()
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        invites = staff_recruitment.due_chasers(session, poll, plan, rules, as_of)
        offers = staff_recruitment.due_offer_chasers(session, poll, rules, as_of)
        chasers = [
            messages.invitation_chaser(session, poll, plan, rec, member, n) for rec, member, n in invites
        ]
        chasers += [
            messages.offer_chaser(session, poll, plan, offer, member, post) for offer, member, post in offers
        ]
        if invites or offers:
            require_ready_to_send(session, "temporary staff")
            record(
                session,
                actor,
                "staff chased",
                poll_id=poll.id,
                subject=poll.key,
                details={"invitations": len(invites), "offers": len(offers)},
            )
        return {"invitations": len(invites), "offers": len(offers), "queued": enqueue(session, chasers)}


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
    with session_scope() as session:
        poll = session.get(Poll, poll_id)
        plan = staff.require_plan(session, poll)
        offers = staff_recruitment.make_offers(session, poll, as_of)
        sent = [
            messages.offer_message(session, poll, plan, offer, member, post) for offer, member, post in offers
        ]
        if offers:
            require_ready_to_send(session, "temporary staff")
            record(
                session,
                actor,
                "offers made",
                poll_id=poll.id,
                subject=poll.key,
                details={"offers": len(offers)},
            )
        return enqueue(session, sent)


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
        requests = []
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
            requests.append(messages.training_request(session, poll, plan, offer, member, sessions))
        if requests:
            require_ready_to_send(session, "temporary staff")
        return enqueue(session, requests)


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


def purge(as_of: dt.datetime, actor: str, dry_run: bool = False) -> dict:
    """Delete bank and NI details past their retention period (config retention)."""
    days = staffing_rules().retention.sensitive_data_days
    with session_scope() as session:
        result = purge_due(session, as_of, days, actor, dry_run=dry_run)
        return {"purged": result.purged, "kept": result.kept, "retention_days": days, "dry_run": dry_run}


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
