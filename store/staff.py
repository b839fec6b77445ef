"""Staffing a poll: the posts to fill, invitations and answers, offers, withdrawals and
replacements, training, pins, and what the officers see. Plain functions on the store; the
messages these stages send are composed in tasks/staffing.py.

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
allocation fills vacant posts from the people who said yes (store/staff_allocation.py); each
post is then offered; an accepted offer is an appointment. A withdrawal, a declined or lapsed
offer leaves the post vacant, and the next run of the recruitment flow fills it from the reserve
list (those who said yes and hold no post that day).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from store.audit import record
from store.models import Election, Poll, WorkItem, utcnow
from store.planning import OwnerPicker
from store.queries import find_poll
from store.staff_allocation import Candidate, Result, Rules, Slot, allocate
from store.staff_config import StaffingRules
from store.staff_models import (
    ROLE_LABELS,
    STAFF_ROLES,
    PollingStation,
    StaffingPlan,
    StaffMember,
    StaffOffer,
    StaffPost,
    StaffRecruitment,
    TrainingBooking,
    TrainingSession,
)
from store.timeutil import LONDON, local
from timetables.errors import PollflowError

SOURCE = "recruitment"  # the WorkItem source of every staffing work item
OWNER_ROLE = "staffing-officer"
CLOSED = ("declined", "withdrawn", "lapsed", "retracted")  # offers never made again


class StaffingError(PollflowError):
    """A staffing step that cannot be done as asked."""


def label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


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
            WorkItem.poll_id == poll.id, WorkItem.key == key, WorkItem.status != "cancelled"
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
                    WorkItem.status != "cancelled",
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
            session, actor, "staffing started", poll_id=poll.id, subject=poll.key, details=_jsonable(values)
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
                details=_jsonable(changed),
            )
    return plan


def _jsonable(values: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in values.items()}


# --- the need: posts ----------------------------------------------------------------------------


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
    round: int
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
                0,
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
                    1 if n == 1 else n + 1,  # clerk 1 before inspectors (round 2), the rest after
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
                2,
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
                20,
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
                21,
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
                        30,
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
            _release(
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


def _release(session: Session, post: StaffPost, offer_status: str, reason: str | None) -> None:
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
    _release(session, post, "withdrawn" if answer.withdrawn else "declined", reason)
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
        _release(
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


def find_staff(session: Session, email: str) -> StaffMember:
    member = session.scalars(select(StaffMember).where(StaffMember.email == email.strip().lower())).first()
    if member is None:
        raise StaffingError(
            f"no one with email {email} on the staff register: add them with `pollflow staff import`"
        )
    return member


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
            _release(session, post, "lapsed", "no answer to the offer")
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


ROUNDS = {
    "presiding-officer": 0,
    "polling-station-inspector": 2,
    "count-supervisor": 20,
    "count-assistant": 21,
}


def _round(post: StaffPost) -> int:
    if post.role == "poll-clerk":
        return 1 if post.slot == 1 else post.slot + 1
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
        _release(session, post, "retracted", f"replaced by {member.email} ({actor})")
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


# --- training -----------------------------------------------------------------------------------


def add_session(
    session: Session,
    poll: Poll,
    code: str,
    *,
    title: str,
    venue: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
    roles: list[str],
    actor: str,
) -> tuple[TrainingSession, list[str]]:
    """Add (or update) a training session; refused on or after polling day. Returns warnings."""
    if starts_at.tzinfo is None:
        raise ValueError("training times must be aware")
    if ends_at <= starts_at:
        raise StaffingError(
            f"training session {code} ends ({ends_at:%H:%M}) before it starts ({starts_at:%H:%M})"
        )
    if capacity < 1:
        raise StaffingError(f"capacity {capacity}: a session needs at least one place")
    if local(starts_at).date() >= poll.poll_date:
        raise StaffingError(
            f"training session {code} on {local(starts_at):%d %b %Y} is not before polling day "
            f"({poll.poll_date:%d %b %Y}): training is before polling day"
        )
    bad = [r for r in roles if r not in STAFF_ROLES]
    if bad:
        raise StaffingError(f"unknown role(s) {', '.join(bad)}: roles are {', '.join(STAFF_ROLES)}")
    warnings = []
    plan = get_plan(session, poll)
    if plan is not None and starts_at > plan.training_deadline:
        warnings.append(
            f"session {code} is after the training deadline "
            f"({local(plan.training_deadline):%a %d %b %Y %H:%M})"
        )
    existing = session.scalars(
        select(TrainingSession).where(TrainingSession.poll_id == poll.id, TrainingSession.code == code)
    ).first()
    values = dict(
        title=title, venue=venue, starts_at=starts_at, ends_at=ends_at, capacity=capacity, roles=roles
    )
    if existing is None:
        existing = TrainingSession(poll_id=poll.id, code=code, **values)
        session.add(existing)
        session.flush()
        record(
            session, actor, "training session added", poll_id=poll.id, subject=code, details=_jsonable(values)
        )
    elif any(getattr(existing, k) != v for k, v in values.items()):
        booked = booked_count(session, existing)
        if capacity < booked:
            raise StaffingError(f"session {code} has {booked} booked: capacity cannot go below that")
        for k, v in values.items():
            setattr(existing, k, v)
        record(
            session,
            actor,
            "training session changed",
            poll_id=poll.id,
            subject=code,
            details=_jsonable(values),
        )
    return existing, warnings


def sessions_of(session: Session, poll: Poll) -> list[TrainingSession]:
    return list(
        session.scalars(
            select(TrainingSession)
            .where(TrainingSession.poll_id == poll.id)
            .order_by(TrainingSession.starts_at, TrainingSession.code)
        ).all()
    )


def booked_count(session: Session, training: TrainingSession) -> int:
    return session.scalar(
        select(func.count())
        .select_from(TrainingBooking)
        .where(TrainingBooking.session_id == training.id, TrainingBooking.status.in_(("booked", "attended")))
    )


def find_session(session: Session, poll: Poll, code: str) -> TrainingSession:
    found = session.scalars(
        select(TrainingSession).where(TrainingSession.poll_id == poll.id, TrainingSession.code == code)
    ).first()
    if found is None:
        codes = [s.code for s in sessions_of(session, poll)]
        raise StaffingError(
            f"no training session '{code}' for {poll.key}: sessions are {', '.join(codes) or 'none'}"
        )
    return found


def roles_held(session: Session, poll: Poll, member: StaffMember) -> list[str]:
    return sorted(
        set(
            session.scalars(
                select(StaffPost.role).where(
                    StaffPost.poll_id == poll.id,
                    StaffPost.staff_id == member.id,
                    StaffPost.status.in_(("offered", "accepted")),
                )
            )
        )
    )


def book(
    session: Session, poll: Poll, member: StaffMember, code: str, actor: str
) -> tuple[TrainingBooking, bool]:
    """Book a place (moving any other booking of this poll's sessions); (booking, changed)."""
    training = find_session(session, poll, code)
    if training.starts_at <= utcnow():
        raise StaffingError(f"session {code} has already started: choose a later one")
    held = roles_held(session, poll, member)
    if training.roles and held and not set(training.roles) & set(held):
        raise StaffingError(
            f"session {code} is for {', '.join(map(label, training.roles))}, "
            f"not {', '.join(map(label, held))}"
        )
    mine = session.execute(
        select(TrainingBooking, TrainingSession)
        .join(TrainingSession, TrainingSession.id == TrainingBooking.session_id)
        .where(TrainingSession.poll_id == poll.id, TrainingBooking.staff_id == member.id)
    ).all()
    for booking, other in mine:
        if other.id == training.id and booking.status in ("booked", "attended"):
            return booking, False
    if booked_count(session, training) >= training.capacity:
        raise StaffingError(f"session {code} is full ({training.capacity} places): choose another")
    for booking, _other in mine:
        if booking.status == "booked":
            booking.status = "cancelled"
    existing = next((b for b, o in mine if o.id == training.id), None)
    if existing is not None:
        existing.status, existing.booked_at = "booked", utcnow()
        booking = existing
    else:
        booking = TrainingBooking(session_id=training.id, staff_id=member.id)
        session.add(booking)
    session.flush()
    record(
        session, actor, "training booked", poll_id=poll.id, subject=member.email, details={"session": code}
    )
    return booking, True


def mark_attendance(
    session: Session, poll: Poll, code: str, emails: list[str], attended: bool, actor: str
) -> list[str]:
    """Record who came to a session (booked or not); returns who changed."""
    training = find_session(session, poll, code)
    status = "attended" if attended else "absent"
    changed = []
    for email in emails:
        member = find_staff(session, email)
        booking = session.scalars(
            select(TrainingBooking).where(
                TrainingBooking.session_id == training.id, TrainingBooking.staff_id == member.id
            )
        ).first()
        if booking is None:
            booking = TrainingBooking(session_id=training.id, staff_id=member.id, status=status)
            session.add(booking)
        elif booking.status == status:
            continue
        booking.status, booking.marked_at, booking.marked_by = status, utcnow(), actor
        changed.append(member.email)
    if changed:
        record(
            session,
            actor,
            f"training {status}",
            poll_id=poll.id,
            subject=code,
            details={"people": changed},
        )
    return changed


def trained_ids(session: Session, poll: Poll) -> set[int]:
    return set(
        session.scalars(
            select(TrainingBooking.staff_id)
            .join(TrainingSession, TrainingSession.id == TrainingBooking.session_id)
            .where(TrainingSession.poll_id == poll.id, TrainingBooking.status == "attended")
        )
    )


def booked_ids(session: Session, poll: Poll) -> set[int]:
    return set(
        session.scalars(
            select(TrainingBooking.staff_id)
            .join(TrainingSession, TrainingSession.id == TrainingBooking.session_id)
            .where(TrainingSession.poll_id == poll.id, TrainingBooking.status.in_(("booked", "attended")))
        )
    )


def untrained(
    session: Session, poll: Poll, rules: StaffingRules
) -> list[tuple[StaffMember, list[StaffPost]]]:
    """Everyone offered or appointed to a post that needs training who has not attended a
    session of this poll."""
    trained = trained_ids(session, poll)
    held: dict[int, list[StaffPost]] = defaultdict(list)
    for post in session.scalars(
        select(StaffPost).where(
            StaffPost.poll_id == poll.id,
            StaffPost.active,
            StaffPost.status.in_(("offered", "accepted")),
            StaffPost.role.in_(rules.training.required_for),
        )
    ):
        if post.staff_id not in trained:
            held[post.staff_id].append(post)
    members = {m.id: m for m in session.scalars(select(StaffMember).where(StaffMember.id.in_(list(held))))}
    return sorted(((members[i], posts) for i, posts in held.items()), key=lambda x: x[0].name)


# --- what officers see --------------------------------------------------------------------------


@dataclass
class StationRow:
    code: str
    name: str
    electorate: int | None
    roles: dict[str, dict[str, int]]  # role -> need, filled (offered or accepted), accepted
    unfilled: list[str]


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


# --- work items ---------------------------------------------------------------------------------


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
        if done and item.status == "open":
            item.status, item.completed_at, item.note = "done", now, "done by the recruitment flow"
            out.completed.append(key)
            record(
                session, actor, "completed", poll_id=poll.id, subject=key, details={"by": "recruitment flow"}
            )
        elif not done and item.status == "done" and item.note == "done by the recruitment flow":
            item.status, item.completed_at, item.note = "open", None, None
            out.reopened.append(key)
            record(session, actor, "reopened", poll_id=poll.id, subject=key, details={"title": title})
    session.flush()
    return out


# --- after the poll -----------------------------------------------------------------------------


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


def poll_for(session: Session, election_id: str) -> Poll:
    return find_poll(session, election_id)
