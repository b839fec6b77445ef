"""What officers see of a poll's staffing (`pollflow staffing`): need, filled and unfilled per
station and role, the fill per role, the reserve list against its target, and who is not yet
trained.
"""

from __future__ import annotations

import math
from collections import Counter

from sqlalchemy import select
from sqlmodel import Session

from store.models import Poll
from store.models.staff import PollingStation, StaffMember, StaffRecruitment
from store.staff import require_plan
from store.staff.config import StaffingRules
from store.staff.need import active_posts
from store.staff.training import untrained
from timetables.clock import local


def report(session: Session, poll: Poll, rules: StaffingRules) -> dict:
    """Need, filled and unfilled per station and role; fill per role; reserve; training."""
    plan = require_plan(session, poll)
    posts = active_posts(session, poll)
    stations = {s.id: s for s in session.scalars(select(PollingStation))}
    members = {m.id: m for m in session.scalars(select(StaffMember))}
    by_place: dict[str, dict] = {}
    for post in posts:
        if post.station_id:
            s = stations[post.station_id]
            key, name, electorate = s.code, s.name, s.electorate
        else:
            key = {"inspector": "Inspectors", "count": "Count", "postal": "Postal vote opening"}[post.kind]
            name, electorate = key, None
        row = by_place.setdefault(
            key, {"code": key, "name": name, "electorate": electorate, "roles": {}, "posts": []}
        )
        cell = row["roles"].setdefault(post.role, {"need": 0, "filled": 0, "accepted": 0, "allocated": 0})
        cell["need"] += 1
        if post.staff_id is not None:
            cell["allocated"] += 1
            if post.status in ("offered", "accepted"):
                cell["filled"] += 1
            if post.status == "accepted":
                cell["accepted"] += 1
        holder = members.get(post.staff_id)
        row["posts"].append(
            {
                "key": post.key,
                "role": post.role,
                "duty_date": post.duty_date.isoformat(),
                "status": post.status,
                "staff": holder.email if holder else None,
                "name": holder.name if holder else None,
                "pinned": post.pinned,
                "unfilled_reason": post.unfilled_reason if holder is None else None,
            }
        )
    totals: dict[str, dict[str, int]] = {}
    for row in by_place.values():
        for role, cell in row["roles"].items():
            t = totals.setdefault(role, {"need": 0, "filled": 0, "accepted": 0, "allocated": 0})
            for k in t:
                t[k] += cell[k]
    statuses = Counter(
        session.scalars(select(StaffRecruitment.status).where(StaffRecruitment.poll_id == poll.id)).all()
    )
    holders = {p.staff_id for p in posts if p.staff_id is not None}
    available = session.scalars(
        select(StaffRecruitment.staff_id).where(
            StaffRecruitment.poll_id == poll.id, StaffRecruitment.status == "available"
        )
    ).all()
    reserve = [members[i] for i in available if i not in holders]
    need_total = len(posts)
    reserve_target = math.ceil(need_total * rules.allocation.reserve_share)
    untrained_people = untrained(session, poll, rules)
    return {
        "poll": poll.key,
        "title": poll.title,
        "polling_day": poll.poll_date.isoformat(),
        "recruitment_closes": local(plan.recruitment_close).isoformat(),
        "training_deadline": local(plan.training_deadline).isoformat(),
        "count_date": plan.count_date.isoformat(),
        "allocated": plan.allocated_at is not None,
        "invitations": dict(statuses),
        "totals": totals,
        "posts": need_total,
        "filled": sum(t["filled"] for t in totals.values()),
        "accepted": sum(t["accepted"] for t in totals.values()),
        "reserve": {
            "count": len(reserve),
            "target": reserve_target,
            "people": sorted(m.email for m in reserve),
        },
        "untrained": [
            {"email": m.email, "name": m.name, "posts": [p.key for p in ps]} for m, ps in untrained_people
        ],
        "stations": list(by_place.values()),
    }
