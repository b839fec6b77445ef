"""The canvass's rules and what they make each property need.

``rules_for`` reads the periods from the registration year's own timetable
(timetables/definitions/canvass.yaml, domain notes §11.1); ``needs_of`` counts them from each
property's own dates rather than the canvass start; ``analyse`` makes the report's figures from
them (defined in docs/canvass-progress.md) and groups the properties by need and polling district
(one follow-up work item a group):

- Route 2 follow-up: within 28 days of the first contact (EC "Delivering the annual canvass": a
  reasonable period, no more than 28 days). The period is the timetable's own: route2_follow_up
  less canvass_communication_b, so a definition change moves it here too.
- Route 2 Canvass Form and personal contact: the timetable's yardsticks (canvass_form,
  personal_contact) counted from the property's first contact (basis: derived).
- Route 3: a responsible person who has not replied within the route3_enquiry window is moved to
  Route 2.
- Invitations to register: within 28 calendar days of identifying a potential elector, rolled to
  the next working day (EC "Running electoral registration"); two more and a visit; then a notice
  requiring an application (RPA 1983 s.9E).
- Nothing the canvass asks of a property is due later than the last day for applications to the
  revised register (revised_register.last_application): after it nothing reaches that register.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from store.canvass import CanvassError, canvass_year
from store.canvass.progress import RESPONDED, Prop
from store.models import Poll, TimetableEvent
from store.planning import stored_overrides

HORIZON = dt.timedelta(days=7)  # "due soon": before the next weekly report
ITR_DAYS = 28


@dataclass(frozen=True)
class Rules:
    """The canvass's periods, from the stored timetable of a registration year."""

    poll_key: str
    year: int
    nation: str
    first_contact_by: dt.date  # canvass_communication_b: Route 2's first contact
    follow_up_days: int  # route2_follow_up less canvass_communication_b (28)
    form_days: int  # canvass_form less canvass_communication_b
    visit_days: int  # personal_contact less canvass_communication_b
    route3_days: int  # route3_enquiry's latest less its earliest
    last_application: dt.date  # revised_register.last_application: the cap on every due date
    revised_register: dt.date
    calendar_id: str
    citations: dict[str, str]

    @property
    def calendar(self):
        from timetables.calendars import get_calendar

        return get_calendar(self.calendar_id)


def rules_for(session: Session, poll: Poll) -> Rules:
    from timetables import timetable_for

    events = {
        e.key: e
        for e in session.scalars(select(TimetableEvent).where(TimetableEvent.poll_id == poll.id)).all()
    }
    needed = (
        "canvass_communication_b",
        "route2_follow_up",
        "canvass_form",
        "personal_contact",
        "route3_enquiry",
        "revised_register.last_application",
        "revised_register",
    )
    absent = [k for k in needed if k not in events]
    if absent:
        raise CanvassError(
            f"{poll.key} has no {', '.join(absent)} in its timetable: the reformed canvass applies from 2020"
        )
    first = events["canvass_communication_b"].date
    tt = timetable_for(poll.key, nation=poll.nation, overrides=stored_overrides(session, poll))
    r3 = events["route3_enquiry"]
    return Rules(
        poll_key=poll.key,
        year=canvass_year(poll),
        nation=poll.nation,
        first_contact_by=first,
        follow_up_days=(events["route2_follow_up"].date - first).days,
        form_days=(events["canvass_form"].date - first).days,
        visit_days=(events["personal_contact"].date - first).days,
        route3_days=(r3.date - (r3.earliest or first)).days,
        last_application=events["revised_register.last_application"].date,
        revised_register=events["revised_register"].date,
        calendar_id=tt["revised_register.last_application"].calendar,
        citations={k: events[k].citation for k in needed},
    )


@dataclass(frozen=True)
class Need:
    key: str
    label: str  # for the report
    owner_role: str
    event_key: str | None  # the statutory outer limit, where there is one
    title: str  # for the work item: {n} properties, {district}
    rule: str
    citation_of: str  # the timetable event whose citation the work quotes


NEEDS = {
    n.key: n
    for n in (
        Need(
            "follow_ups",
            "Route 2 follow-ups (28 days from first contact)",
            "electoral-services-officer",
            None,
            "Follow up {n} Route 2 {properties} in polling district {district} not replying 28 days "
            "after the first contact",
            "a further contact within 28 days of the first (EC: a reasonable period, no more than 28 days)",
            "route2_follow_up",
        ),
        Need(
            "canvass_forms",
            "Route 2 Canvass Forms to send",
            "electoral-services-officer",
            None,
            "Send a Canvass Form to {n} Route 2 {properties} in polling district {district}",
            "at least one Canvass Form to a Route 2 property not replying (unless its first contact was one)",
            "canvass_form",
        ),
        Need(
            "visits",
            "Route 2 properties needing a personal visit",
            "electoral-services-manager",
            None,
            "Personal canvass: visit or phone {n} Route 2 {properties} in polling district {district}",
            "at least one personal contact attempt (door-knock or telephone) at a Route 2 property "
            "not replying",
            "personal_contact",
        ),
        Need(
            "route3_switch",
            "Route 3 properties to move to Route 2",
            "electoral-services-officer",
            None,
            "Move {n} Route 3 {properties} in polling district {district} to Route 2 (no reply from the "
            "responsible person)",
            "a Route 3 property whose responsible person has not replied moves to Route 2",
            "route3_enquiry",
        ),
        Need(
            "invitations",
            "Invitations to register due (28 days from identification)",
            "electoral-services-officer",
            "invitations_to_register",
            "Send invitations to register to potential electors at {n} {properties} in polling district "
            "{district}",
            "an invitation to register within 28 days of identifying a potential elector (rolled to the "
            "next working day)",
            "invitations_to_register",
        ),
        Need(
            "further_invitations",
            "Further invitations and visits",
            "electoral-services-officer",
            "invitations_to_register",
            "Send further invitations to register (and visit) at {n} {properties} in polling district "
            "{district} with no application",
            "up to two further invitations and a personal visit where no application has come",
            "invitations_to_register",
        ),
        Need(
            "requirement_notices",
            "Notices requiring an application to consider",
            "electoral-registration-officer",
            "notice_requiring_application",
            "Decide on notices requiring an application for potential electors at {n} {properties} in "
            "polling district {district}",
            "after three invitations and a visit without an application the ERO may require one "
            "(failure: civil penalty)",
            "notice_requiring_application",
        ),
    )
}


def needs_of(p: Prop, rules: Rules, roll_forward: Callable[[dt.date], dt.date]) -> list[tuple[str, dt.date]]:
    """What a property needs now, each with the day it is due."""
    out: list[tuple[str, dt.date]] = []
    cap = rules.last_application
    first = p.first_contact
    if p.status == "outstanding" and first is not None:
        if p.route == 2:
            contacts = max(p.contacts, 2 if p.last_contact and p.last_contact > first else 1)
            if contacts < 2:
                out.append(("follow_ups", min(first + dt.timedelta(days=rules.follow_up_days), cap)))
            if not p.canvass_form:
                out.append(("canvass_forms", min(first + dt.timedelta(days=rules.form_days), cap)))
            if not p.personal_contact:
                out.append(("visits", min(first + dt.timedelta(days=rules.visit_days), cap)))
        elif p.route == 3:
            out.append(("route3_switch", min(first + dt.timedelta(days=rules.route3_days), cap)))
    if p.potential_electors > p.applications and p.identified is not None:
        if p.itrs == 0:
            out.append(("invitations", roll_forward(p.identified + dt.timedelta(days=ITR_DAYS))))
        elif p.itrs < 3 or not p.itr_visit:
            base = p.last_itr or p.first_itr or p.identified
            out.append(("further_invitations", min(roll_forward(base + dt.timedelta(days=ITR_DAYS)), cap)))
        else:
            out.append(("requirement_notices", cap))
    return out


class _Roller:
    """The calendar's roll-forward, remembered (a report asks it about the same days again and
    again)."""

    def __init__(self, rules: Rules):
        self.calendar = rules.calendar
        self.cache: dict[dt.date, dt.date] = {}

    def __call__(self, day: dt.date) -> dt.date:
        found = self.cache.get(day)
        if found is None:
            found = self.cache[day] = self.calendar.roll_forward(day)
        return found


@dataclass
class Group:
    """The properties of one district with one need."""

    need: str
    district: str
    due: list[tuple[dt.date, str]] = field(default_factory=list)  # (due, property ref)
    people: int = 0  # potential electors still to apply (invitations)


def analyse(rows: Iterable[Prop], as_of: dt.date, rules: Rules) -> tuple[dict, dict[tuple[str, str], Group]]:
    """The report's figures (JSON-ready) and the groups of properties each need calls for."""
    roll = _Roller(rules)
    routes = {r: dict(properties=0, responded=0, outstanding=0, not_contacted=0) for r in (1, 2, 3)}
    districts: dict[str, dict] = {}
    groups: dict[tuple[str, str], Group] = {}
    found = applied = 0
    soon = as_of + HORIZON
    for p in rows:
        r = routes[p.route]
        r["properties"] += 1
        d = districts.get(p.district)
        if d is None:
            d = districts[p.district] = dict(properties=0, responded=0, route2=0, route2_outstanding=0)
        d["properties"] += 1
        if p.status in RESPONDED:
            r["responded"] += 1
            d["responded"] += 1
        else:
            r["outstanding"] += 1
        if p.route == 2:
            d["route2"] += 1
            if p.status not in RESPONDED:
                d["route2_outstanding"] += 1
        if p.first_contact is None:
            r["not_contacted"] += 1
        found += p.potential_electors
        applied += p.applications
        for need, due in needs_of(p, rules, roll):
            ident = (need, p.district)
            group = groups.get(ident)
            if group is None:
                group = groups[ident] = Group(need, p.district)
            group.due.append((due, p.property_ref))
            if need in ("invitations", "further_invitations", "requirement_notices"):
                group.people += p.potential_electors - p.applications
    total = {
        k: sum(routes[r][k] for r in routes)
        for k in ("properties", "responded", "outstanding", "not_contacted")
    }
    for block in [*routes.values(), total]:
        block["rate"] = round(block["responded"] / block["properties"], 4) if block["properties"] else 0.0
    for d in districts.values():
        d["rate"] = round(d["responded"] / d["properties"], 4) if d["properties"] else 0.0
    needs = {}
    for key in NEEDS:
        mine = [g for (need, _), g in groups.items() if need == key]
        dues = [due for g in mine for due, _ in g.due]
        needs[key] = dict(
            properties=len(dues),
            overdue=sum(1 for due in dues if due < as_of),
            due_soon=sum(1 for due in dues if as_of <= due <= soon),
            people=sum(g.people for g in mine),
            earliest_due=min(dues).isoformat() if dues else None,
            districts=len(mine),
        )
        for g in mine:
            districts[g.district][key] = len(g.due)
    figures = {
        "report_date": as_of.isoformat(),
        "properties": total["properties"],
        "routes": {str(r): v for r, v in routes.items()} | {"all": total},
        "needs": needs,
        "potential_electors": {"found": found, "applied": applied, "awaiting": found - applied},
        "districts": dict(sorted(districts.items())),
        "last_application": rules.last_application.isoformat(),
        "revised_register": rules.revised_register.isoformat(),
        "days_to_last_application": (rules.last_application - as_of).days,
    }
    return figures, groups


def groups_by_need(
    groups: dict[tuple[str, str], Group], need: str | None, district: str | None
) -> list[Group]:
    return [
        g
        for (n, d), g in sorted(groups.items())
        if (need is None or n == need) and (district is None or d == district)
    ]
