"""Helpers the staff tests share (no tests here): the Wychwood fixtures, a planned poll with
stations and a staff register, and tokens for the links people are sent."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from store import staff
from store.identity.council import save_council
from store.models import Poll
from store.models.staff import StaffingPlan, StaffMember, StaffOffer, StaffPost, StaffRecruitment
from store.staff import need as staff_need
from store.staff import recruitment as staff_recruitment
from store.staff import work as staff_work
from store.staff.config import staffing_rules
from store.staff.register_import import StaffFile, StaffRecord, save_staff
from store.staff.stations import read_stations, save_stations
from tests.support.helpers import london, plan, seed_people

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ems"
POLL = "local.wychwood.2027-05-06"
POLL_KEY = "local.wychwood.2027-05-06+local.wychwood-parishes.2027-05-06"
POLL_DAY = dt.date(2027, 5, 6)
BEFORE_INVITES = london("2027-03-10T09:00")


def person(n: int, roles, *, experience=None, e=None, n_=None, postcode=None, **extra) -> dict:
    return dict(
        email=f"staff{n:04d}@example.org",
        name=f"Staff {n:04d}",
        phone=None,
        address="",
        postcode=postcode,
        easting=e,
        northing=n_,
        roles=list(roles),
        experience=experience or {},
        performance=extra.pop("performance", ""),
        notes="",
        preferred_area=extra.pop("preferred_area", None),
        preferred_stations=extra.pop("preferred_stations", []),
        preferred_colleagues=extra.pop("preferred_colleagues", []),
        payroll_ref=f"P{n:04d}",
        active=True,
    )


def register(session, people: list[dict]) -> None:
    parsed = StaffFile(
        Path("register.csv"), len(people), [StaffRecord(i + 2, p, {}) for i, p in enumerate(people)]
    )
    save_staff(session, parsed, "test")


def wychwood_register() -> list[dict]:
    """Enough people near Wychwood for every post of the three stations and the count (some
    experienced presiding officers, clerks, an inspector, count and postal staff)."""
    people = []
    n = 0
    for i in range(4):  # experienced presiding officers
        n += 1
        people.append(
            person(n, ["presiding-officer", "poll-clerk"], experience={"presiding-officer": 2 + i},
                   e=430000 + 600 * i, n_=225000 + 500 * i, postcode="OX7 1AB")
        )  # fmt: skip
    for i in range(9):
        n += 1
        people.append(person(n, ["poll-clerk"], e=430500 + 300 * i, n_=225200 + 250 * i, postcode="OX7 2BD"))
    for _ in range(3):
        n += 1
        people.append(
            person(n, ["polling-station-inspector"], experience={"polling-station-inspector": 3},
                   e=431000, n_=225500, postcode="OX7 1AB")
        )  # fmt: skip
    for _ in range(2):
        n += 1
        people.append(person(n, ["count-supervisor", "count-assistant"], experience={"count-supervisor": 4}))
    for _ in range(6):
        n += 1
        people.append(person(n, ["count-assistant", "postal-vote-opener"]))
    for _ in range(6):
        n += 1
        people.append(person(n, ["postal-vote-opener"]))
    return people


def council_set(session) -> None:
    """The council's details saved, as an administrator does before staff are recruited (the
    pre-flight check refuses to write to staff while they are pollflow's example)."""
    save_council(
        session,
        {
            "name": "Wychwood District Council",
            "returning_officer": "Jane Smith",
            "address": "Council Offices\nHigh Street\nWychwood OX7 1AA",
            "email": "elections@wychwood.gov.uk",
            "phone": "01234 567000",
        },
        "test",
    )


def setup_poll(
    session,
    stations_file: str = "pollflow_stations.csv",
    people: list[dict] | None = None,
    council: bool = True,
) -> Poll:
    """The Wychwood district and parish poll planned, its stations imported and staff registered
    (and, unless ``council`` is False, the council's details saved)."""
    seed_people(session)
    if council:
        council_set(session)
    poll, *_ = plan(session)
    save_stations(session, read_stations(FIXTURES / stations_file), "test")
    register(session, wychwood_register() if people is None else people)
    session.flush()
    return poll


def start(session, poll: Poll, actor: str = "test", **options):
    rules = staffing_rules()
    plan_ = staff.ensure_plan(session, poll, rules, actor, **options)
    need = staff_need.compute_need(session, poll, plan_, rules)
    staff_need.sync_posts(session, poll, need, actor)
    staff_work.sync_work(session, poll, plan_, rules, actor)
    return plan_, need


def everyone_available(session, poll: Poll) -> None:
    """Every invited person says yes to every day and role they could do."""
    for rec in session.scalars(select(StaffRecruitment).where(StaffRecruitment.poll_id == poll.id)).all():
        staff_recruitment.answer_invitation(
            session, rec, True, via="test", actor="test", as_of=BEFORE_INVITES
        )


def poll_of(session) -> Poll:
    return session.scalars(select(Poll).where(Poll.key == POLL_KEY)).one()


def plan_of(session, poll: Poll) -> StaffingPlan:
    return staff.require_plan(session, poll)


def member(session, email: str) -> StaffMember:
    return session.scalars(select(StaffMember).where(StaffMember.email == email)).one()


def posts(session, poll: Poll) -> list[StaffPost]:
    return staff_need.active_posts(session, poll)


def offer_of(session, post: StaffPost) -> StaffOffer:
    return session.scalars(
        select(StaffOffer).where(StaffOffer.post_id == post.id, StaffOffer.staff_id == post.staff_id)
    ).one()
