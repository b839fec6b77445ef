"""Posting people to posts: an allocation computed from the store and saved to the posts, and
the pins by which a manager puts a person in a post themselves.

The allocation itself is store/staff_allocation.py, a pure function with no database: this
module gathers its inputs (the vacant posts as slots, the people who said yes as candidates, the
posts kept and the offers turned down) and writes its result back, with the reasoning the
Electoral Commission asks Returning Officers to keep. Offers of the allocated posts are made by
store/staff_recruitment.py.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.models import Poll, utcnow
from store.models.staff import (
    PollingStation,
    StaffingPlan,
    StaffMember,
    StaffOffer,
    StaffPost,
    StaffRecruitment,
)
from store.staff import StaffingError, find_staff, label, require_plan
from store.staff.allocation import Candidate, Result, Rules, Slot, allocate
from store.staff.config import StaffingRules
from store.staff.need import active_posts, inspector_groups, poll_stations
from store.staff.recruitment import CLOSED, release_post

# --- allocation ---------------------------------------------------------------------------------


def allocation_rules(rules: StaffingRules) -> Rules:
    a = rules.allocation
    return Rules(
        in_charge=frozenset(a.in_charge),
        min_polls_in_role=a.min_polls_in_role,
        min_polls_any_role=a.min_polls_any_role,
        max_distance_km=a.max_distance_km,
        station_preference_km=a.station_preference_km,
        area_preference_km=a.area_preference_km,
        colleague_preference_km=a.colleague_preference_km,
    )


# The order allocation fills posts in, lowest first: when staff run short, every station has its
# presiding officer and first clerk before an inspector is placed, and an inspector before any
# station has a second clerk; the count and postal vote openings (30) come after polling day.
ROUNDS = {
    "presiding-officer": 0,
    "polling-station-inspector": 2,
    "count-supervisor": 20,
    "count-assistant": 21,
}


def _round(post: StaffPost) -> int:
    if post.role == "poll-clerk":
        return 1 if post.slot == 1 else post.slot + 1  # clerk 1 before inspectors (2), the rest after
    return ROUNDS.get(post.role, 30)


@dataclass
class AllocationInputs:
    posts: list[StaffPost]
    slots: list[Slot]
    candidates: list[Candidate]
    kept: dict[int, int]
    declined: set[tuple[int, int]]
    members: dict[int, StaffMember]


def allocation_inputs(session: Session, poll: Poll, rules: StaffingRules) -> AllocationInputs:
    posts = active_posts(session, poll)
    stations = {s.id: s for s in session.scalars(select(PollingStation)).all()}
    groups = _group_centres(
        inspector_groups(
            poll_stations(session, require_plan(session, poll)), rules.inspectors.stations_per_inspector
        )
    )
    slots = []
    for post in posts:
        s = stations.get(post.station_id)
        e, n, pc = (
            (s.easting, s.northing, s.postcode) if s else groups.get(post.group_name, (None, None, None))
        )
        slots.append(
            Slot(
                id=post.id,
                role=post.role,
                duty_date=post.duty_date,
                kind=post.kind,
                round=_round(post),
                station=s.code if s else None,
                area=s.area if s else None,
                easting=e,
                northing=n,
                postcode=pc,
                label=post.key,
            )
        )
    rows = session.execute(
        select(StaffRecruitment, StaffMember)
        .join(StaffMember, StaffMember.id == StaffRecruitment.staff_id)
        .where(
            StaffRecruitment.poll_id == poll.id, StaffRecruitment.status == "available", StaffMember.active
        )
        .order_by(StaffMember.id)
    ).all()
    members = {m.id: m for _, m in rows}
    ids_by_email = {m.email: m.id for m in members.values()}
    candidates = [
        Candidate(
            id=m.id,
            roles=frozenset(r for r in rec.roles if r in m.roles),
            dates=frozenset(dt.date.fromisoformat(d) for d in rec.available_dates),
            experience=dict(m.experience),
            concern=m.performance == "concern",
            easting=m.easting,
            northing=m.northing,
            postcode=m.postcode,
            preferred_stations=frozenset(m.preferred_stations),
            preferred_area=m.preferred_area,
            preferred_colleagues=frozenset(
                ids_by_email[e] for e in m.preferred_colleagues if e in ids_by_email
            ),
            label=m.email,
        )
        for rec, m in rows
    ]
    kept = {p.id: p.staff_id for p in posts if p.staff_id is not None}
    declined = {
        (post_id, staff_id)
        for post_id, staff_id in session.execute(
            select(StaffOffer.post_id, StaffOffer.staff_id).where(
                StaffOffer.poll_id == poll.id, StaffOffer.status.in_(CLOSED)
            )
        ).all()
    }
    return AllocationInputs(posts, slots, candidates, kept, declined, members)


def _group_centres(groups: dict[str, list[PollingStation]]) -> dict[str, tuple]:
    """Where each inspector's group is: the middle of its stations (by grid reference)."""
    out = {}
    for name, members in groups.items():
        located = [m for m in members if m.easting is not None]
        postcode = members[0].postcode if members else None
        if located:
            out[name] = (
                sum(m.easting for m in located) / len(located),
                sum(m.northing for m in located) / len(located),
                postcode,
            )
        else:
            out[name] = (None, None, postcode)
    return out


@dataclass
class Allocated:
    result: Result
    inputs: AllocationInputs
    summary: dict


def run_allocation(session: Session, poll: Poll, rules: StaffingRules) -> Allocated:
    """Compute an allocation of the vacant posts (nothing saved)."""
    inputs = allocation_inputs(session, poll, rules)
    result = allocate(inputs.slots, inputs.candidates, inputs.kept, inputs.declined, allocation_rules(rules))
    return Allocated(result, inputs, result.summary(len(inputs.slots)))


def save_allocation(
    session: Session, poll: Poll, plan: StaffingPlan, allocated: Allocated, actor: str
) -> None:
    result, inputs = allocated.result, allocated.inputs
    posts = {p.id: p for p in inputs.posts}
    now = utcnow()
    for post_id, staff_id in result.assigned.items():
        post = posts[post_id]
        post.staff_id, post.status, post.unfilled_reason, post.updated_at = staff_id, "allocated", None, now
    for post_id, reason in result.unfilled.items():
        post = posts[post_id]
        if post.unfilled_reason != reason:
            post.unfilled_reason, post.updated_at = reason, now
    first = plan.allocated_at is None
    if first:
        plan.allocated_at = now
    session.flush()
    if result.assigned or first:
        reasons = Counter(result.unfilled.values())
        record(
            session,
            actor,
            "staff allocated",
            poll_id=poll.id,
            subject=poll.key,
            # The reasoning the Electoral Commission asks Returning Officers to keep.
            details={**allocated.summary, "unfilled_reasons": dict(reasons.most_common(20))},
        )


# --- pins ---------------------------------------------------------------------------------------


def find_post(session: Session, poll: Poll, ref: str, role: str | None = None) -> StaffPost:
    """A post by its key (station:S12:poll-clerk:2), or a station code with --role: the first
    vacant post of that role there (else the first of that role)."""
    posts = active_posts(session, poll)
    by_key = {p.key: p for p in posts}
    if ref in by_key:
        return by_key[ref]
    station = session.scalars(select(PollingStation).where(PollingStation.code == ref)).first()
    if station is None:
        raise StaffingError(f"no post or station '{ref}' at {poll.key}: see `pollflow staffing {poll.key}`")
    roles = sorted({p.role for p in posts if p.station_id == station.id})
    if role not in roles:
        raise StaffingError(f"give --role for station {ref}: its posts are {', '.join(roles)}")
    mine = sorted((p for p in posts if p.station_id == station.id and p.role == role), key=lambda p: p.slot)
    return next((p for p in mine if p.staff_id is None), mine[0])


def pin(
    session: Session, poll: Poll, post: StaffPost, email: str, actor: str, replace: bool = False
) -> StaffPost:
    """A manager puts a person in a post; allocation never moves them."""
    member = find_staff(session, email)
    if post.role not in member.roles:
        raise StaffingError(
            f"{member.email} is not registered as {label(post.role)} (their roles: {', '.join(member.roles)})"
        )
    if post.staff_id == member.id:
        if not post.pinned:
            post.pinned, post.pinned_by = True, actor
            record(
                session,
                actor,
                "post pinned",
                poll_id=poll.id,
                subject=post.key,
                details={"staff": member.email},
            )
        return post
    other = session.scalars(
        select(StaffPost).where(StaffPost.staff_id == member.id, StaffPost.duty_date == post.duty_date)
    ).first()
    if other is not None:
        raise StaffingError(
            f"{member.email} already holds {other.label} ({other.key}) on {post.duty_date:%d %b %Y}: "
            "one post a day; release that first (`pollflow staff withdraw` or `pollflow unpin`)"
        )
    if post.staff_id is not None:
        if not replace:
            holder = session.get(StaffMember, post.staff_id)
            raise StaffingError(
                f"{post.key} is held by {holder.email} ({post.status}): add --replace to take it"
            )
        release_post(session, post, "retracted", f"replaced by {member.email} ({actor})")
    post.staff_id, post.status, post.pinned, post.pinned_by = member.id, "allocated", True, actor
    post.unfilled_reason, post.updated_at = None, utcnow()
    session.flush()
    record(session, actor, "post pinned", poll_id=poll.id, subject=post.key, details={"staff": member.email})
    return post


def unpin(session: Session, poll: Poll, post: StaffPost, actor: str) -> StaffPost:
    if post.pinned:
        post.pinned, post.pinned_by, post.updated_at = False, None, utcnow()
        record(session, actor, "post unpinned", poll_id=poll.id, subject=post.key)
    return post
