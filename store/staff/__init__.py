"""Staffing a poll: the plan, its dates, and what every staffing module shares (StaffingError,
role labels, finding a poll or a person on the staff register).

The stages, and the dates they hang on (each is a work item with source "recruitment" that shows
in `pollflow tasks` and is alerted when overdue):

- recruitment closes when the poll's ``recruit_polling_staff`` work is due (20 working days
  before polling day in the catalogue); invitations go out, answers come in and allocation is
  done a set number of days before that (config/staffing.yaml ``recruitment``);
- training must be done when ``train_polling_staff`` is due (5 working days before polling day):
  recruitment closes before training, and training before polling day;
- the count is on polling day (an overnight count) or the day after; postal vote openings are on
  the days of the poll's ``postal_vote_opening_*`` work items.

A person's answer to an invitation says which of those days they can work and in which roles;
allocation fills vacant posts from the people who said yes; each post is then offered; an
accepted offer is an appointment. A withdrawal, a declined or lapsed offer leaves the post vacant,
and the next run of the recruitment flow fills it from the reserve list (those who said yes and
hold no post that day).

The stages are in the modules beside this one, each named for what it holds: ``staff_need`` (the
posts a poll needs), ``staff_recruitment`` (invitations, answers, offers, chasers and lapses),
``staff_posting`` (an allocation computed and saved to the posts, and pins),
``staff_allocation`` (the allocation itself: a pure function), ``staff_training``,
``staff_report`` (what officers see), ``staff_work`` (the stages as work items) and
``staff_experience`` (after the poll). They are plain functions on the store; the messages they
send are composed in tasks/staffing.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.models import Poll, WorkItem, WorkStatus, utcnow
from store.models.staff import ROLE_LABELS, StaffingPlan, StaffMember
from store.staff.config import StaffingRules
from timetables.clock import LONDON, local
from timetables.errors import PollflowError


class StaffingError(PollflowError):
    """A staffing step that cannot be done as asked."""


def label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def find_staff(session: Session, email: str) -> StaffMember:
    member = session.scalars(select(StaffMember).where(StaffMember.email == email.strip().lower())).first()
    if member is None:
        raise StaffingError(
            f"no one with email {email} on the staff register: add them with `pollflow staff import`"
        )
    return member


# --- the poll's staffing plan and its dates -----------------------------------------------------


@dataclass
class Dates:
    poll_date: dt.date
    recruitment_close: dt.datetime
    training_deadline: dt.datetime
    count_date: dt.date
    postal_sessions: list[dt.date]

    @property
    def polling_day_start(self) -> dt.datetime:
        return dt.datetime.combine(self.poll_date, dt.time(), tzinfo=LONDON)


def _work_due(session: Session, poll: Poll, key: str) -> dt.datetime | None:
    return session.scalars(
        select(WorkItem.due_at).where(
            WorkItem.poll_id == poll.id, WorkItem.key == key, WorkItem.status != WorkStatus.CANCELLED
        )
    ).first()


def staffing_dates(session: Session, poll: Poll, rules: StaffingRules) -> Dates:
    """The poll's staffing dates, from its planned work where it has it, else from the rules."""
    r = rules.recruitment
    day_start = dt.datetime.combine(poll.poll_date, dt.time(17, 0), tzinfo=LONDON)
    close = _work_due(session, poll, "recruit_polling_staff") or day_start - dt.timedelta(
        days=r.close_days_before_poll
    )
    training = _work_due(session, poll, "train_polling_staff") or day_start - dt.timedelta(
        days=r.training_days_before_poll
    )
    if not close < training < dt.datetime.combine(poll.poll_date, dt.time(), tzinfo=LONDON):
        raise StaffingError(
            f"{poll.key}: recruitment must close ({local(close):%d %b %Y}) before training is due "
            f"({local(training):%d %b %Y}), and training before polling day ({poll.poll_date:%d %b %Y}): "
            "move the recruit_polling_staff or train_polling_staff work"
        )
    count = poll.poll_date if rules.count.starts == "overnight" else poll.poll_date + dt.timedelta(days=1)
    sessions = sorted(
        {
            local(due).date()
            for due in session.scalars(
                select(WorkItem.due_at).where(
                    WorkItem.poll_id == poll.id,
                    WorkItem.key.like("postal_vote_opening%"),
                    WorkItem.status != WorkStatus.CANCELLED,
                )
            ).all()
        }
    )
    return Dates(poll.poll_date, close, training, count, sessions)


def get_plan(session: Session, poll: Poll) -> StaffingPlan | None:
    return session.scalars(select(StaffingPlan).where(StaffingPlan.poll_id == poll.id)).first()


def require_plan(session: Session, poll: Poll) -> StaffingPlan:
    plan = get_plan(session, poll)
    if plan is None:
        raise StaffingError(f"staffing for {poll.key} has not started: run `pollflow recruit {poll.key}`")
    return plan


def ensure_plan(
    session: Session,
    poll: Poll,
    rules: StaffingRules,
    actor: str,
    *,
    ballot_papers: int | None = None,
    postal_votes: int | None = None,
    areas: list[str] | None = None,
    as_of: dt.datetime | None = None,
) -> StaffingPlan:
    """The poll's staffing plan, created or brought up to date (dates follow a replan).

    A poll whose staffing starts late (a snap poll, planned after its recruit_polling_staff
    date) still gives people ``min_answer_days`` to answer: recruitment then closes that long
    after staffing started, but always a day before training is due."""
    dates = staffing_dates(session, poll, rules)
    plan = get_plan(session, poll)
    started = plan.created_at if plan is not None else (as_of or utcnow())
    close = dates.recruitment_close
    floor = started + dt.timedelta(days=rules.recruitment.min_answer_days)
    if close < floor:
        close = min(floor, dates.training_deadline - dt.timedelta(days=1))
    values = dict(
        recruitment_close=close,
        training_deadline=dates.training_deadline,
        count_date=dates.count_date,
    )
    if ballot_papers is not None:
        values["expected_ballot_papers"] = ballot_papers
    if postal_votes is not None:
        values["expected_postal_votes"] = postal_votes
    if areas is not None:
        values["areas"] = sorted(set(areas))
    if plan is None:
        plan = StaffingPlan(poll_id=poll.id, created_at=started, **values)
        session.add(plan)
        session.flush()
        record(
            session, actor, "staffing started", poll_id=poll.id, subject=poll.key, details=jsonable(values)
        )
    else:
        changed = {k: v for k, v in values.items() if getattr(plan, k) != v}
        if changed:
            for k, v in changed.items():
                setattr(plan, k, v)
            plan.updated_at = utcnow()
            record(
                session,
                actor,
                "staffing plan changed",
                poll_id=poll.id,
                subject=poll.key,
                details=jsonable(changed),
            )
    return plan


def jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in values.items()}
