"""The staffing stages as work items (source "recruitment"), due on the poll's timetable so they
show in `pollflow tasks` and are alerted when overdue: each is done when its stage is, and opens
again if the stage is undone (a withdrawal leaves a post to fill).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.models import Poll, WorkItem, WorkStatus, utcnow
from store.models.staff import StaffingPlan, StaffRecruitment
from store.owners import OwnerPicker
from store.staff.config import StaffingRules
from store.staff.need import active_posts
from store.staff.training import untrained

SOURCE = "recruitment"  # the WorkItem source of every staffing work item
OWNER_ROLE = "staffing-officer"


def counts_for_work(session: Session, poll: Poll, rules: StaffingRules) -> dict[str, int]:
    posts = active_posts(session, poll)
    statuses = Counter(
        session.scalars(select(StaffRecruitment.status).where(StaffRecruitment.poll_id == poll.id)).all()
    )
    return {
        "invited": sum(statuses.values()),
        "waiting": statuses.get("invited", 0),
        "answered": statuses.get("available", 0) + statuses.get("declined", 0),
        "posts": len(posts),
        "vacant": sum(1 for p in posts if p.staff_id is None),
        "offered": sum(1 for p in posts if p.status == "offered"),
        "accepted": sum(1 for p in posts if p.status == "accepted"),
        "untrained": len(untrained(session, poll, rules)),
    }


@dataclass
class WorkSync:
    added: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)


def sync_work(session: Session, poll: Poll, plan: StaffingPlan, rules: StaffingRules, actor: str) -> WorkSync:
    """The staffing stages as work items (source "recruitment"), due on the poll's timetable;
    each is done when its stage is, and opens again if the stage is undone (a withdrawal)."""
    r = rules.recruitment
    close = plan.recruitment_close
    n = counts_for_work(session, poll, rules)
    allocated = plan.allocated_at is not None
    stages = [
        (
            "staffing_invitations",
            f"Invite staff to work at the poll ({n['invited']} invited)",
            close - dt.timedelta(days=r.invite_days_before_close),
            plan.invitations_sent_at is not None,
            "Run `pollflow recruit` to send invitations to everyone on the staff register.",
        ),
        (
            "staffing_answers",
            f"Staff availability answers: {n['answered']} of {n['invited']} in ({n['waiting']} waiting)",
            close - dt.timedelta(days=r.respond_days_before_close),
            plan.invitations_sent_at is not None and n["waiting"] == 0,
            "Chasers go automatically; call those who have not answered.",
        ),
        (
            "staffing_allocation",
            "Allocate staff to stations, the count and postal vote openings",
            close - dt.timedelta(days=r.allocate_days_before_close),
            allocated,
            "Run `pollflow allocate` (see the plan first with --dry-run).",
        ),
        (
            "staffing_fill",
            f"Fill {n['vacant']} unfilled post(s)" if allocated else "Fill every post",
            close,
            allocated and n["vacant"] == 0,
            "`pollflow staffing` says why each post is unfilled; recruit more or pin people to posts.",
        ),
        (
            "staffing_offers",
            f"Staff appointments: {n['accepted']} of {n['posts']} posts accepted ({n['offered']} waiting)",
            close,
            allocated and n["accepted"] == n["posts"],
            "Offers are chased and lapse automatically; lapsed posts go to the reserve list.",
        ),
        (
            "staffing_training",
            f"Train {n['untrained']} allocated staff not yet trained"
            if allocated
            else "Train allocated staff",
            plan.training_deadline,
            allocated and n["untrained"] == 0,
            "Everyone allocated must be trained: book them (`pollflow training book`) and record "
            "attendance (`pollflow training attended`).",
        ),
    ]
    stored = {
        w.key: w
        for w in session.scalars(
            select(WorkItem).where(WorkItem.poll_id == poll.id, WorkItem.source == SOURCE)
        )
    }
    picker: OwnerPicker | None = None
    out = WorkSync()
    now = utcnow()
    for key, title, due, done, description in stages:
        item = stored.get(key)
        if item is None:
            picker = picker or OwnerPicker(session)
            owner = picker.pick(OWNER_ROLE)
            item = WorkItem(
                poll_id=poll.id,
                key=key,
                title=title,
                description=description,
                owner_role=OWNER_ROLE,
                owner_id=owner.id if owner else None,
                due_at=due,
                anchor="recruitment_close" if key != "staffing_training" else "training_deadline",
                source=SOURCE,
            )
            session.add(item)
            out.added.append(key)
        else:
            if item.title != title:
                item.title = title
            if item.due_at != due:
                record(
                    session,
                    actor,
                    "work due date moved",
                    poll_id=poll.id,
                    subject=key,
                    details={"from": item.due_at.isoformat(), "to": due.isoformat()},
                )
                item.due_at = due
        if done and item.status == WorkStatus.OPEN:
            item.status, item.completed_at, item.note = WorkStatus.DONE, now, "done by the recruitment flow"
            out.completed.append(key)
            record(
                session, actor, "completed", poll_id=poll.id, subject=key, details={"by": "recruitment flow"}
            )
        elif not done and item.status == WorkStatus.DONE and item.note == "done by the recruitment flow":
            item.status, item.completed_at, item.note = WorkStatus.OPEN, None, None
            out.reopened.append(key)
            record(session, actor, "reopened", poll_id=poll.id, subject=key, details={"title": title})
    session.flush()
    return out
