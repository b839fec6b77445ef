"""After the poll: each person appointed gains a poll of experience in each role they held, which
allocation reads when it decides who may be put in charge next time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.models import Poll, utcnow
from store.models.staff import StaffingPlan, StaffMember, StaffPost
from timetables.clock import LONDON


def record_experience(
    session: Session, poll: Poll, plan: StaffingPlan, as_of: dt.datetime, actor: str
) -> int:
    """Once polling day is over: one more poll of experience, in each role they held, for
    everyone appointed. Done once per poll."""
    if plan.experience_recorded_at is not None or as_of.astimezone(LONDON).date() <= poll.poll_date:
        return 0
    counted = 0
    worked: dict[int, set[str]] = defaultdict(set)
    for post in session.scalars(
        select(StaffPost).where(
            StaffPost.poll_id == poll.id, StaffPost.status == "accepted", StaffPost.active
        )
    ):
        worked[post.staff_id].add(post.role)
    for member in session.scalars(select(StaffMember).where(StaffMember.id.in_(list(worked)))):
        experience = dict(member.experience)
        for role in worked[member.id]:
            experience[role] = experience.get(role, 0) + 1
        member.experience = experience
        counted += 1
    plan.experience_recorded_at = utcnow()
    record(
        session,
        actor,
        "staff experience recorded",
        poll_id=poll.id,
        subject=poll.key,
        details={"people": counted},
    )
    return counted
