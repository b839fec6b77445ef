"""The posts a poll needs: worked out from its polling stations and the staffing rules (the
Electoral Commission's ratios in config/staffing.yaml: clerks by electorate, inspectors by
stations, count staff by ballot papers, postal vote openers by packets), and the stored posts kept
in step with that need without taking a post from anyone who holds it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from store.audit import record
from store.models import Election, Poll, utcnow
from store.models.staff import PollingStation, StaffingPlan, StaffPost
from store.staff import StaffingError, staffing_dates
from store.staff.config import StaffingRules


@dataclass
class PostSpec:
    key: str
    kind: str
    role: str
    slot: int
    label: str
    duty_date: dt.date
    starts: dt.time
    ends: dt.time
    station_id: int | None = None
    group_name: str | None = None


@dataclass
class Need:
    posts: list[PostSpec]
    stations: list[PollingStation]
    warnings: list[str] = field(default_factory=list)
    ballot_papers: int = 0
    postal_packets: int = 0


def poll_stations(session: Session, plan: StaffingPlan) -> list[PollingStation]:
    query = select(PollingStation).where(PollingStation.active).order_by(PollingStation.code)
    stations = list(session.scalars(query).all())
    if plan.areas:
        wanted = {a.lower() for a in plan.areas}
        stations = [s for s in stations if (s.area or "").lower() in wanted]
    return stations


def compute_need(session: Session, poll: Poll, plan: StaffingPlan, rules: StaffingRules) -> Need:
    """Every post the poll needs, from its stations and the rules."""
    stations = poll_stations(session, plan)
    if not stations:
        where = f" in {', '.join(plan.areas)}" if plan.areas else ""
        raise StaffingError(
            f"no active polling stations{where}: import them with `pollflow stations import FILE`"
        )
    missing = [s.code for s in stations if s.electorate is None]
    if missing:
        raise StaffingError(
            f"{len(missing)} station(s) have no electorate, so their staffing cannot be worked out: "
            f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}: set them with "
            "`pollflow stations electorate FILE` or import a file with an electors column"
        )
    elections = (
        session.scalar(select(func.count()).select_from(Election).where(Election.poll_id == poll.id)) or 1
    )
    combined = elections > 1
    need = Need([], stations)
    day = poll.poll_date
    st = rules.stations
    for s in stations:
        electors = s.electorate
        if st.exclude_postal_voters and s.postal_voters:
            electors = max(electors - s.postal_voters, 0)
        if electors > st.max_electors:
            need.warnings.append(
                f"station {s.code} ({s.name}) has {electors:,} electors in person: the Electoral "
                f"Commission recommends no more than {st.max_electors:,} (staffed at the top band)"
            )
        posts = rules.station_posts(electors, combined)
        need.posts.append(
            PostSpec(
                f"station:{s.code}:presiding-officer:1",
                "station",
                "presiding-officer",
                1,
                f"{s.code} {s.name}: Presiding Officer",
                day,
                st.duty.starts,
                st.duty.ends,
                station_id=s.id,
            )
        )
        for n in range(1, posts.get("poll-clerk", 0) + 1):
            need.posts.append(
                PostSpec(
                    f"station:{s.code}:poll-clerk:{n}",
                    "station",
                    "poll-clerk",
                    n,
                    f"{s.code} {s.name}: Poll Clerk {n}",
                    day,
                    st.duty.starts,
                    st.duty.ends,
                    station_id=s.id,
                )
            )
    for group, members in inspector_groups(stations, rules.inspectors.stations_per_inspector).items():
        need.posts.append(
            PostSpec(
                f"inspector:{group}:1",
                "inspector",
                "polling-station-inspector",
                1,
                f"Inspector, {group} ({len(members)} stations: {', '.join(m.code for m in members)})",
                day,
                rules.inspectors.duty.starts,
                rules.inspectors.duty.ends,
                group_name=group,
            )
        )
    electorate = sum(s.electorate or 0 for s in stations)
    need.ballot_papers = plan.expected_ballot_papers or math.ceil(
        electorate * rules.count.turnout * elections
    )
    assistants = math.ceil(need.ballot_papers / rules.count.ballot_papers_per_assistant)
    supervisors = math.ceil(assistants / rules.count.assistants_per_supervisor)
    c = rules.count
    for n in range(1, supervisors + 1):
        need.posts.append(
            PostSpec(
                f"count:count-supervisor:{n}",
                "count",
                "count-supervisor",
                n,
                f"Count Supervisor {n}",
                plan.count_date,
                c.duty.starts,
                c.duty.ends,
            )
        )
    for n in range(1, assistants + 1):
        need.posts.append(
            PostSpec(
                f"count:count-assistant:{n}",
                "count",
                "count-assistant",
                n,
                f"Count Assistant {n}",
                plan.count_date,
                c.duty.starts,
                c.duty.ends,
            )
        )
    dates = staffing_dates(session, poll, rules)
    p = rules.postal_opening
    if dates.postal_sessions:
        postal_voters = sum(
            s.postal_voters if s.postal_voters is not None else (s.electorate or 0) * p.postal_voter_share
            for s in stations
        )
        need.postal_packets = plan.expected_postal_votes or math.ceil(postal_voters * p.return_rate)
        per_session = math.ceil(need.postal_packets / len(dates.postal_sessions))
        openers = max(math.ceil(per_session / p.packets_per_opener), p.min_openers)
        for session_day in dates.postal_sessions:
            for n in range(1, openers + 1):
                need.posts.append(
                    PostSpec(
                        f"postal:{session_day.isoformat()}:postal-vote-opener:{n}",
                        "postal",
                        "postal-vote-opener",
                        n,
                        f"Postal vote opening {session_day:%a %d %b}: Opener {n}",
                        session_day,
                        p.duty.starts,
                        p.duty.ends,
                        group_name=session_day.isoformat(),
                    )
                )
    return need


def inspector_groups(stations: list[PollingStation], per_inspector: int) -> dict[str, list[PollingStation]]:
    """Stations by inspector group (as imported), else by area, in chunks of ``per_inspector``."""
    by_group: dict[str, list[PollingStation]] = defaultdict(list)
    for s in stations:
        by_group[s.inspector_group or s.area or "all stations"].append(s)
    out: dict[str, list[PollingStation]] = {}
    for name in sorted(by_group):
        members = sorted(by_group[name], key=lambda s: s.code)
        chunks = [members[i : i + per_inspector] for i in range(0, len(members), per_inspector)]
        for n, chunk in enumerate(chunks, start=1):
            out[name if len(chunks) == 1 else f"{name} {n}"] = chunk
    return out


@dataclass
class PostChanges:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    surplus_held: list[str] = field(default_factory=list)  # no longer needed, but someone holds it
    changed: list[str] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def sync_posts(session: Session, poll: Poll, need: Need, actor: str) -> PostChanges:
    """Make the poll's posts match the need; a post someone holds is never removed under them."""
    changes = PostChanges()
    stored = {p.key: p for p in session.scalars(select(StaffPost).where(StaffPost.poll_id == poll.id))}
    wanted = {spec.key for spec in need.posts}
    now = utcnow()
    for spec in need.posts:
        post = stored.get(spec.key)
        values = dict(
            kind=spec.kind,
            role=spec.role,
            slot=spec.slot,
            label=spec.label,
            duty_date=spec.duty_date,
            starts=spec.starts,
            ends=spec.ends,
            station_id=spec.station_id,
            group_name=spec.group_name,
            active=True,
        )
        if post is None:
            session.add(StaffPost(poll_id=poll.id, key=spec.key, **values))
            changes.added.append(spec.key)
        elif any(getattr(post, k) != v for k, v in values.items()):
            if not post.active:
                changes.added.append(spec.key)
            else:
                changes.changed.append(spec.key)
            for k, v in values.items():
                setattr(post, k, v)
            post.updated_at = now
    for key, post in stored.items():
        if key in wanted or not post.active:
            continue
        if post.staff_id is None or post.status == "allocated":
            post.active, post.staff_id, post.status, post.pinned = False, None, "vacant", False
            post.updated_at = now
            changes.removed.append(key)
        else:
            changes.surplus_held.append(key)
    session.flush()
    if changes.any:
        record(
            session,
            actor,
            "staffing need changed",
            poll_id=poll.id,
            subject=poll.key,
            details={
                "posts_added": len(changes.added),
                "posts_removed": changes.removed,
                "posts_changed": changes.changed,
                "surplus_held": changes.surplus_held,
            },
        )
    return changes


def active_posts(session: Session, poll: Poll) -> list[StaffPost]:
    return list(
        session.scalars(
            select(StaffPost).where(StaffPost.poll_id == poll.id, StaffPost.active).order_by(StaffPost.id)
        ).all()
    )
