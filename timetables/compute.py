"""Computes a timetable from a definition, a polling day and the dates someone has fixed.

A definition is compiled once per (kind, nation) into a plan: its events in dependency order, each
rule's calendars resolved. Computing a timetable then walks the plan, choosing for each event the
rule in force on polling day and placing the event's latest and earliest dates. An event anchored
to a window (a by-election's close of nominations before the Returning Officer fixes it) is itself
a window.
"""

from __future__ import annotations

import bisect
import calendar as _monthcal
import datetime as dt
import heapq
from dataclasses import dataclass, field, replace
from functools import cache
from operator import attrgetter

from timetables import amendments, gaps
from timetables.calendars import registry
from timetables.definitions import definitions
from timetables.errors import (
    DefinitionError,
    OverrideError,
    PollDateError,
    PollflowError,
)
from timetables.ids import ElectionId, resolve
from timetables.model import ElectionRef, Event, EventInfo, Timetable
from timetables.schema import Definition, Rule, Spec
from timetables.vocabulary import ORDER_INDEX

DEFAULT_RULES_FROM = dt.date(2015, 1, 1)
Override = tuple[dt.date, dt.time | None]


# ---------------------------------------------------------------------------------------------
# Compiling a definition into a plan


@dataclass(frozen=True, slots=True)
class Step:
    """A compiled Spec: move ``count`` units from an anchor, in one calendar."""

    anchor: str  # "poll", "year" (a fixed date) or an event's key
    sign: int
    unit: str  # "working_days" | "days" | "months" | "date"
    count: int
    calendar: str
    roll_forward: bool
    fixed: Spec | None = None  # a fixed date, placed in the registration year
    plus_holidays: bool = False  # "days" and a day more for each bank holiday in them


@dataclass(frozen=True)
class PlanRule:
    rule: Rule
    shape: str
    on: tuple[Step, ...]
    latest: tuple[Step, ...]
    earliest: tuple[Step, ...]
    asap: Step | None
    default: Step | None
    deferred: Step | None  # the later limit of a deferral the law allows in stated circumstances
    calendar: str  # the calendar the rule counts in, shown with the event
    # Most rules are one count of working days from polling day or from another event (or a
    # window of two such counts): those take a fast path, as (anchor, calendar, signed count).
    quick_hi: tuple | None
    quick_lo: tuple | None
    unconditional: bool
    info: EventInfo | None = None  # set once the rule is attached to its event
    # The fastest path: one count of working days from polling day, as (calendar number in the
    # plan, signed count).
    poll_count: tuple[int, int] | None = None

    def applies(self, poll_date: dt.date, photo_id: bool, ballot: tuple[str, str]) -> bool:
        r = self.rule
        return (
            (r.valid_from is None or poll_date >= r.valid_from)
            and (r.valid_to is None or poll_date <= r.valid_to)
            and (r.photo_id is None or r.photo_id == photo_id)
            and (r.ballots is None or ballot[0] in r.ballots or ballot[1] in r.ballots)
        )


@dataclass(frozen=True)
class PlanEvent:
    key: str
    label: str
    scope: str
    settable: bool
    rules: tuple[PlanRule, ...]
    always: PlanRule | None  # the one rule, where there is one rule with no conditions

    def rule_for(self, poll_date: dt.date, photo_id: bool, ballot: tuple[str, str]) -> PlanRule | None:
        if self.always is not None:
            return self.always
        for rule in self.rules:
            if rule.applies(poll_date, photo_id, ballot):
                return rule
        return None


@dataclass(frozen=True)
class Plan:
    kind: str
    nation: str
    title: str
    source: str
    events: tuple[PlanEvent, ...]  # in dependency order, and in the law's order where free
    photo_id_from: dt.date | None
    rules_from: dt.date
    poll_calendar: str
    settable: tuple[str, ...]
    scopes: dict[str, str]
    registration_year: bool = False  # a canvass year: no polling day to check
    calendars: tuple = ()  # the calendars that poll_count numbers
    poll_position: int = 0  # where the poll's own calendar is among them
    # Polling days on which some rule starts or stops applying, and the rules in force between
    # them (by photo ID and ballot too), worked out once per era.
    boundaries: tuple[dt.date, ...] = ()
    selections: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Selection:
    """The rules in force for one era of a plan: (position, event, rule) in dependency order,
    and apart, the ones counted in working days from polling day, with what building their
    events needs."""

    rules: tuple[tuple[int, PlanEvent, PlanRule], ...]
    from_poll: tuple[tuple, ...]
    others: tuple[tuple[int, PlanEvent, PlanRule], ...]
    unconfirmed: bool  # some rule in force rests on rule text not seen in legislation


def select_rules(plan: Plan, poll: dt.date, photo_id: bool, eid: ElectionId) -> Selection:
    key = (bisect.bisect_right(plan.boundaries, poll), photo_id, eid.election_type, eid.subtype)
    found = plan.selections.get(key)
    if found is None:
        ballot = (eid.election_type, f"{eid.election_type}.{eid.subtype}")
        chosen = []
        for event in plan.events:
            rule = event.rule_for(poll, photo_id, ballot)
            if rule is not None:
                chosen.append((len(chosen), event, rule))
        from_poll = tuple(
            (i, rule.info, rule.rule.time, rule.shape, *rule.poll_count)
            for i, _, rule in chosen
            if rule.poll_count is not None
        )
        others = tuple(c for c in chosen if c[2].poll_count is None)
        unconfirmed = any(rule.rule.basis == "unconfirmed" for *_, rule in chosen)
        found = plan.selections[key] = Selection(tuple(chosen), from_poll, others, unconfirmed)
    return found


def _calendar_id(definition: Definition, nation: str, name: str, source: str) -> str:
    seen = []
    while name in definition.calendars:
        if name in seen:
            raise DefinitionError(f"{source}: calendar aliases loop: {' -> '.join(seen)}")
        seen.append(name)
        value = definition.calendars[name]
        if isinstance(value, dict):
            if nation not in value:
                raise DefinitionError(f"{source}: calendar '{name}' has no entry for {nation}")
            value = value[nation]
        name = value
    if name not in registry.definitions:
        raise DefinitionError(
            f"{source}: unknown calendar '{name}'; calendars are "
            f"{', '.join(sorted(registry.definitions))} or an alias in 'calendars'"
        )
    return name


def _step(spec: Spec, definition: Definition, nation: str, source: str) -> Step:
    calendar = _calendar_id(definition, nation, spec.calendar or "timetable", source)
    if spec.date is not None:
        return Step("year", 1, "date", 0, calendar, spec.roll_forward, fixed=spec)
    unit = next(u for u in ("working_days", "days", "months") if getattr(spec, u) is not None)
    return Step(
        anchor=spec.anchor,
        sign=spec.sign,
        unit=unit,
        count=getattr(spec, unit),
        calendar=calendar,
        roll_forward=spec.roll_forward,
        plus_holidays=spec.plus_holidays,
    )


def _dependency_order(anchors: dict[str, list[str]], source: str) -> list[str]:
    """Events so that every anchor comes before the events placed from it; otherwise in the
    law's order (vocabulary.EVENT_ORDER), so that sorting by date alone keeps that order."""
    for key, deps in anchors.items():
        for anchor in deps:
            if anchor not in FIXED_ANCHORS and anchor not in anchors:
                raise DefinitionError(
                    f"{source}: event '{key}' is placed from '{anchor}', which the definition does not have"
                )
    waiting = {key: {a for a in deps if a not in FIXED_ANCHORS} for key, deps in anchors.items()}
    rank = {key: (ORDER_INDEX.get(key, len(ORDER_INDEX)), n) for n, key in enumerate(anchors)}
    ready = [(rank[k], k) for k, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(key)
        for other, deps in waiting.items():
            if key in deps:
                deps.discard(key)
                if not deps:
                    heapq.heappush(ready, (rank[other], other))
    if len(order) != len(anchors):
        stuck = sorted(k for k in anchors if k not in order)
        raise DefinitionError(f"{source}: events depend on each other in a loop: {', '.join(stuck)}")
    return order


WORKING_DAYS, DAYS, MONTHS = 0, 1, 2
UNIT_CODES = {"working_days": WORKING_DAYS, "days": DAYS, "months": MONTHS}


def _quick(step: Step) -> tuple | None:
    """A step as (anchor, calendar, unit code, signed count, roll forward), for the fast path;
    a count of calendar days as a timedelta, ready to add. A fixed date takes the full path."""
    if step.fixed is not None or step.plus_holidays:
        return None
    count = step.sign * step.count
    return (
        step.anchor,
        registry.get(step.calendar),
        UNIT_CODES[step.unit],
        dt.timedelta(days=count) if step.unit == "days" else count,
        step.roll_forward,
    )


def _plan_rule(r: Rule, definition: Definition, nation: str, source: str) -> PlanRule:
    def steps(specs: list[Spec] | None) -> tuple[Step, ...]:
        return tuple(_step(s, definition, nation, source) for s in specs or ())

    on, latest, earliest = steps(r.on), steps(r.latest), steps(r.earliest)
    asap = _step(r.asap_after, definition, nation, source) if r.asap_after else None
    default = _step(r.default, definition, nation, source) if r.default else None
    deferred = _step(r.deferred_latest, definition, nation, source) if r.deferred_latest else None
    main = (on or latest or earliest or (asap or default,))[0]
    if r.shape == "assumed":
        hi_steps, lo_steps = (default,), ()
    elif r.shape == "asap":
        hi_steps, lo_steps = (asap,), ()
    else:
        hi_steps, lo_steps = on or latest, on or earliest
    # The fast path takes a single step for each bound; a bound set by several takes the full one.
    quick_hi = _quick(hi_steps[0]) if len(hi_steps) == 1 else None
    quick_lo = _quick(lo_steps[0]) if len(lo_steps) == 1 else None
    if len(lo_steps) == 1 and quick_lo is None:
        quick_hi = None  # a bound the fast path cannot place: place the rule on the full path
    unconditional = r.valid_from is None and r.valid_to is None and r.photo_id is None and r.ballots is None
    return PlanRule(
        r,
        r.shape,
        on,
        latest,
        earliest,
        asap,
        default,
        deferred,
        main.calendar,
        quick_hi,
        quick_lo,
        unconditional,
    )


FIXED_ANCHORS = ("poll", "year")
MONTH_NAMES = tuple(_monthcal.month_name)


def _series_key(key: str, suffix: str) -> str:
    """``notice_of_alteration.determination`` -> ``notice_of_alteration.2027-03.determination``."""
    head, _, tail = key.partition(".")
    return f"{head}.{suffix}" + (f".{tail}" if tail else "")


def _month_spec(spec: Spec, heads: set[str], first: dt.date) -> Spec:
    """A monthly template's spec for the month starting ``first``."""
    anchor = spec.anchor
    if anchor == "month":
        # Counted from the first of the month: a fixed date, so working days cannot apply.
        if spec.working_days is not None or spec.months is not None or spec.before is not None:
            raise DefinitionError(
                "monthly: the anchor 'month' takes 'after' with 'days' (the first of the month "
                "plus days, rolled forward if asked)"
            )
        day = first + dt.timedelta(days=spec.days or 0)
        return spec.model_copy(update={"after": None, "days": None, "date": day.isoformat(), "year": 0})
    if anchor.split(".")[0] in heads:
        field_name = "before" if spec.before is not None else "after"
        return spec.model_copy(update={field_name: _series_key(anchor, f"{first:%Y-%m}")})
    return spec


def expand_monthly(definition: Definition, year: int) -> Definition:
    """The definition with its monthly series written out as events for each month of ``year``."""
    monthly = definition.monthly
    if monthly is None:
        return definition
    heads = {key.split(".")[0] for key in monthly.events}
    events = dict(definition.events)
    for month in monthly.months:
        first = dt.date(year, month, 1)
        for key, event in monthly.events.items():
            rules = []
            for rule in event.rules:
                update: dict = {}
                for name in ("on", "latest", "earliest"):
                    specs = getattr(rule, name)
                    if specs is not None:
                        update[name] = [_month_spec(s, heads, first) for s in specs]
                for name in ("asap_after", "default", "deferred_latest"):
                    spec = getattr(rule, name)
                    if spec is not None:
                        update[name] = _month_spec(spec, heads, first)
                rules.append(rule.model_copy(update=update))
            label = event.label.replace("{month}", f"{MONTH_NAMES[month]} {year}")
            if month in monthly.optional:
                label += f" ({monthly.optional_note})"
            events[_series_key(key, f"{first:%Y-%m}")] = event.model_copy(
                update={"label": label, "rules": rules}
            )
    return definition.model_copy(update={"events": events})


@cache
def plan_for(kind: str, nation: str, year: int | None = None) -> Plan:
    """The compiled plan of a kind of poll in a nation; for a registration year's kind, with its
    monthly series written out for ``year``."""
    defs = definitions()
    definition = defs.get(kind, nation)
    source = defs.file_for(kind, nation)
    if year is not None:
        definition = expand_monthly(definition, year)
    elif definition.registration_year:
        raise DefinitionError(f"{source}: a registration year's plan needs its year")

    def in_force(ev):
        return [r for r in ev.rules if r.nations is None or nation in r.nations]

    anchors = {
        key: [s.anchor for r in in_force(ev) for s in r.specs()] for key, ev in definition.events.items()
    }
    events = []
    calendars: list = []

    def attach(pr: PlanRule, key: str, ev) -> PlanRule:
        poll_count = None
        q = pr.quick_hi
        if q is not None and q[0] == "poll" and q[2] == WORKING_DAYS and pr.shape in ("latest", "on", "asap"):
            if q[1] not in calendars:
                calendars.append(q[1])
            poll_count = (calendars.index(q[1]), q[3])
        info = EventInfo(
            key, ev.label, pr.rule.citation, pr.rule.basis, pr.calendar, pr.rule.until, ev.settable
        )
        return replace(pr, info=info, poll_count=poll_count)

    for key in _dependency_order(anchors, source):
        ev = definition.events[key]
        rules = tuple(
            attach(_plan_rule(r, definition, nation, f"{source}: {key}"), key, ev) for r in in_force(ev)
        )
        if rules:
            always = rules[0] if len(rules) == 1 and rules[0].unconditional else None
            events.append(PlanEvent(key, ev.label, ev.scope, ev.settable, rules, always))
    poll_calendar = _calendar_id(definition, nation, "timetable", source)
    if registry.get(poll_calendar) not in calendars:
        calendars.append(registry.get(poll_calendar))
    return Plan(
        kind=kind,
        nation=nation,
        title=definition.title or kind,
        source=source,
        events=tuple(events),
        photo_id_from=definition.photo_id.get(nation),
        rules_from=definition.rules_from or DEFAULT_RULES_FROM,
        poll_calendar=poll_calendar,
        poll_position=calendars.index(registry.get(poll_calendar)),
        settable=tuple(e.key for e in events if e.settable),
        scopes={e.key: e.scope for e in events},
        calendars=tuple(calendars),
        registration_year=definition.registration_year,
        boundaries=tuple(
            sorted(
                {r.rule.valid_from for e in events for r in e.rules if r.rule.valid_from}
                | {r.rule.valid_to + dt.timedelta(days=1) for e in events for r in e.rules if r.rule.valid_to}
            )
        ),
    )


# Plans hold calendars: rebuild them when the calendars are rebuilt.
registry.on_reload(plan_for.cache_clear)


# ---------------------------------------------------------------------------------------------
# Computing one election's events
#
# While a timetable is computed, each placed event is a tuple (earliest, latest, provisional);
# for anything but a window the two dates are the same day.

Placed = tuple[dt.date, dt.date, bool]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = _monthcal.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


@cache
def _safe_polls() -> tuple[dt.date, dt.date]:
    """Polling days far enough inside GOV.UK's data that no date counted from them (all within
    200 days) can reach a bank holiday it does not cover."""
    data, margin = registry.data, dt.timedelta(days=200)
    return data.covered_from + margin, data.covered_to - margin


registry.on_reload(_safe_polls.cache_clear)


def needs_provisional_checks(poll: dt.date) -> bool:
    safe_from, safe_to = _safe_polls()
    return not safe_from <= poll <= safe_to


class _Run:
    """One election's computation: the poll, the events placed so far, and how to place more."""

    def __init__(self, plan: Plan, poll: dt.date):
        self.plan = plan
        self.poll = poll
        self.placed: dict[str, Placed] = {}
        # A registration year's dates run from the December before to years after: check them all.
        self.check_provisional = plan.registration_year or needs_provisional_checks(poll)
        self.notes: list[str] = []  # warnings about the dates someone has set

    def move(self, step: Step, use_lo: bool, key: str) -> tuple[dt.date, bool]:
        """Apply one step from its anchor (the anchor's earliest day if ``use_lo``)."""
        cal = registry.get(step.calendar)
        if step.fixed is not None:
            day = step.fixed.fixed_day(self.poll.year)
            if not step.roll_forward:
                return day, False
            rolled = cal.roll_forward(day)
            return rolled, self.check_provisional and cal.provisional(day, rolled)
        if step.anchor == "poll":
            base, provisional = self.poll, False
        else:
            anchor = self.placed.get(step.anchor)
            if anchor is None:
                plan = self.plan
                raise DefinitionError(
                    f"{plan.source}: '{key}' is placed from '{step.anchor}', which does not "
                    f"apply to a {plan.kind} poll on {self.poll.isoformat()} in {plan.nation}"
                )
            base = anchor[0] if use_lo else anchor[1]
            provisional = anchor[2]
        if step.unit == "working_days":
            if step.sign < 0:
                day = cal.working_days_before(base, step.count)
            else:
                day = cal.working_days_after(base, step.count)
            if self.check_provisional and not provisional:
                provisional = cal.provisional(base, day)
            return day, provisional
        if step.plus_holidays:
            day = cal.days_plus_holidays(base, step.count)
        elif step.unit == "days":
            day = base + dt.timedelta(days=step.sign * step.count)
        else:
            day = add_months(base, step.sign * step.count)
        if step.roll_forward:
            rolled = cal.roll_forward(day)
            if self.check_provisional and not provisional:
                provisional = cal.provisional(day, rolled)
            day = rolled
        return day, provisional

    def span(self, steps: tuple[Step, ...], use_lo: bool, key: str) -> tuple[dt.date, bool]:
        """The latest (``use_lo``) or earliest date that several steps allow."""
        day, provisional = self.move(steps[0], use_lo, key)
        for step in steps[1:]:
            other, p = self.move(step, use_lo, key)
            day = max(day, other) if use_lo else min(day, other)
            provisional = provisional or p
        return day, provisional

    def place(self, rule: PlanRule, key: str) -> Placed:
        """Any rule: a fixed day, a deadline, a window, or a day someone chooses."""
        shape = rule.shape
        if shape == "on":
            hi, provisional = self.span(rule.on, False, key)
            lo, p = self.span(rule.on, True, key)  # a window when placed from a window
            provisional = provisional or p
        elif shape in ("latest", "window"):
            hi, provisional = self.span(rule.latest, False, key)
            lo = hi
            if rule.earliest:
                lo, p = self.span(rule.earliest, True, key)
                provisional = provisional or p
        else:  # asap or assumed: one day, from one step
            hi, provisional = self.move(rule.asap or rule.default, False, key)  # type: ignore[arg-type]
            lo = hi
        if lo > hi:
            raise OverrideError(
                f"no date is left for {key}: the law allows from {lo.isoformat()} but not later "
                f"than {hi.isoformat()}, given the dates that have been set"
            )
        return lo, hi, provisional

    def override(self, rule: PlanRule, key: str, place: Placed, day: dt.date) -> Placed:
        """Fix a chosen date, once it is checked against what the law allows."""
        poll = self.poll
        lo: dt.date | None = place[0]
        hi: dt.date | None = place[1]
        if day > poll and place[1] <= poll and not self.plan.registration_year:
            raise OverrideError(
                f"{key}={day.isoformat()} is after polling day ({poll.isoformat()}): "
                f"{key} must fall on or before {place[1].isoformat()}"
            )
        shape = rule.shape
        if shape == "assumed":
            lo = self.span(rule.earliest, True, key)[0] if rule.earliest else None
            hi = self.span(rule.latest, False, key)[0] if rule.latest else None
        if shape != "latest" and lo is not None and day < lo:
            raise OverrideError(
                f"{key}={day.isoformat()} is earlier than the law allows: the earliest is "
                f"{lo.isoformat()} ({rule.rule.citation})"
            )
        if shape == "latest" and rule.deferred is not None and hi is not None and day > hi:
            limit, _ = self.move(rule.deferred, False, key)
            if day > limit:
                raise OverrideError(
                    f"{key}={day.isoformat()} is later than the law allows: the latest is "
                    f"{hi.isoformat()} ({rule.rule.citation}), or {limit.isoformat()} where "
                    f"{rule.rule.deferral}"
                )
            self.notes.append(
                f"{key} deferred from {hi.isoformat()} to {day.isoformat()}: allowed only where "
                f"{rule.rule.deferral}"
            )
            return day, day, False
        if shape != "asap" and hi is not None and day > hi:
            raise OverrideError(
                f"{key}={day.isoformat()} is later than the law allows: the latest is "
                f"{hi.isoformat()} ({rule.rule.citation})"
            )
        cal = registry.get(rule.calendar)
        main = (rule.on or rule.latest or (rule.asap,))[0]
        fixed_by_law = main is not None and main.fixed is not None and not main.roll_forward
        if shape != "assumed" and not fixed_by_law and not cal.is_working_day(day):
            raise OverrideError(
                f"{key}={day.isoformat()} is not a working day ({cal.why_closed(day)}) in the "
                f"{cal.title} calendar"
            )
        return day, day, False


def compute_events(
    plan: Plan, eid: ElectionId, overrides: dict[str, Override]
) -> tuple[list[Event], bool, list[str]]:
    """Every event that applies to one election, in dependency order; whether any of them may be
    provisional or rest on unconfirmed rule text (so that warnings are worth looking for); and
    warnings about the dates that have been set (a deferral the law allows only sometimes).
    """
    election_id, poll = eid.raw, eid.poll_date
    if plan.registration_year and poll.year < plan.rules_from.year:
        raise PollDateError(
            f"no rules for the registration year {poll.year}: pollflow's rules cover the years "
            f"from {plan.rules_from.year}"
        )
    if poll < plan.rules_from:
        raise PollDateError(
            f"no rules for a {plan.kind} poll on {poll.isoformat()}: pollflow's rules cover "
            f"polls from {plan.rules_from.isoformat()}"
        )
    positions = [cal.position(poll) for cal in plan.calendars]
    if (
        positions[plan.poll_position] is None and not plan.registration_year
    ):  # not a working day, or near the calendar's edge
        poll_calendar = registry.get(plan.poll_calendar)
        if not poll_calendar.is_working_day(poll):
            why = poll_calendar.why_closed(poll)
            raise PollDateError(
                f"polling day {poll.isoformat()} is not a working day ({why}) in the "
                f"{poll_calendar.title} calendar; a poll must be held on a working day"
            )
    photo_id = plan.photo_id_from is not None and poll >= plan.photo_id_from
    selection = select_rules(plan, poll, photo_id, eid)
    run = _Run(plan, poll)
    placed = run.placed
    check_provisional = run.check_provisional
    out: list[Event | None] = [None] * len(selection.rules)
    rest = selection.rules
    amended = amendments.amended(plan.kind, plan.nation, poll)
    if not overrides and not amended and not check_provisional and None not in positions:
        # Phase 1: every event counted in working days from polling day: one index each.
        for index, info, time, shape, cal_index, count in selection.from_poll:
            dates, position = positions[cal_index]
            day = dates[position + count]
            placed[info.key] = (day, day, False)
            out[index] = Event(info, day, time, None, False, election_id, shape, False)
        rest = selection.others

    def quick(step: tuple, use_lo: bool) -> tuple[dt.date, bool]:
        """One step from polling day or from an event already placed."""
        anchor, cal, unit, count, roll = step
        if anchor == "poll":
            base, provisional = poll, False
        else:
            base_lo, base_hi, provisional = placed[anchor]
            base = base_lo if use_lo else base_hi
        if unit == WORKING_DAYS:
            if count < 0:
                day = cal.working_days_before(base, -count)
            elif count > 0:
                day = cal.working_days_after(base, count)
            else:
                day = base
            return day, provisional or (check_provisional and cal.provisional(base, day))
        day = base + count if unit == DAYS else add_months(base, count)
        if roll:
            rolled = cal.roll_forward(day)
            return rolled, provisional or (check_provisional and cal.provisional(day, rolled))
        return day, provisional

    # Phase 2: everything else, in dependency order.
    for index, event, rule in rest:
        key = event.key
        shape = rule.shape
        q_hi, q_lo = rule.quick_hi, rule.quick_lo
        try:
            if q_hi is None or (q_lo is None and shape in ("on", "window")):
                raise KeyError(key)
            hi, provisional = quick(q_hi, False)
            lo = hi
            if q_lo is not None:
                lo, p = quick(q_lo, True)  # an "on" placed from a window is a window
                provisional = provisional or p
            place = (lo, hi, provisional) if lo <= hi else run.place(rule, key)
        except KeyError:  # not a plain count, or an anchor that does not apply: the full path
            place = run.place(rule, key)
        time, info = rule.rule.time, rule.info
        value = overrides.get(key) if overrides else None
        law = amended.get(key) if amended else None
        if law is not None:  # the law's own date for this poll: not checked against the rule it replaces
            if value is not None:
                raise OverrideError(f"{key} was fixed for this poll by {law.citation}: it cannot be set")
            place, time, shape = (law.date, law.date, False), law.time or time, "on"
            info = replace(info, citation=f"{law.citation}, amending {info.citation}", basis="legislation")
        elif value is not None:
            place = run.override(rule, key, place, value[0])
            time = value[1] or time
            shape = "on"
        placed[key] = place
        lo, hi, provisional = place
        if lo < hi:
            if shape != "asap":
                shape = "window"
        else:
            lo = None
        out[index] = Event(info, hi, time, lo, provisional, election_id, shape, value is not None)
    if amended and not amended.keys() <= placed.keys():
        unknown = ", ".join(sorted(amended.keys() - placed.keys()))
        raise DefinitionError(
            f"an amendment for this {plan.kind} poll on {poll.isoformat()} names {unknown}, which it "
            f"does not have (`pollflow law amendments` lists them)"
        )
    return out, check_provisional or selection.unconfirmed, run.notes  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------
# Timetables, single and combined


def _combined_sort_key(event: Event) -> tuple:
    return (event.date, ORDER_INDEX.get(event.key, len(ORDER_INDEX)), event.election_id or "")


def sort_events(events: list[Event], combined: bool = False) -> list[Event]:
    """By date, then in the law's order of events on one day.

    One election's events come out of the plan in the law's order already, so a stable sort by
    date keeps it; a combined poll's need the full key.
    """
    if combined:
        return sorted(events, key=_combined_sort_key)
    return sorted(events, key=_by_date)


_by_date = attrgetter("date")


def parse_override(key: str, value: object) -> Override:
    """``2025-04-03`` or ``2025-04-03T16:00`` (or a date or datetime) as a date and a time."""
    if isinstance(value, dt.datetime):
        return value.date(), value.time().replace(second=0, microsecond=0)
    if isinstance(value, dt.date):
        return value, None
    text = str(value).strip()
    try:
        if "T" in text:
            day, _, clock = text.partition("T")
            return dt.date.fromisoformat(day), dt.time.fromisoformat(clock)
        return dt.date.fromisoformat(text), None
    except ValueError as exc:
        raise OverrideError(f"{key}={text} is not a date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM") from exc


def _warnings(events: list[Event]) -> list[str]:
    """Say loudly which dates are provisional and which rest on unconfirmed rule text."""
    flagged = [e for e in events if e.provisional or e.info.basis == "unconfirmed"]
    if not flagged:
        return []
    warnings = []
    provisional = list(dict.fromkeys(e.key for e in flagged if e.provisional))
    if provisional:
        through = registry.data.covered_to.isoformat()
        warnings.append(
            f"{len(provisional)} event(s) ({', '.join(provisional)}) depend on bank holidays "
            f"after {through}, which GOV.UK has not yet published: they are computed from the "
            "holidays package and marked provisional. Run `pollflow holidays refresh` once "
            "GOV.UK publishes them."
        )
    unconfirmed = list(dict.fromkeys(e.key for e in flagged if e.info.basis == "unconfirmed"))
    if unconfirmed:
        warnings.append(
            f"the rule text behind {', '.join(unconfirmed)} has not been confirmed in "
            "legislation: check these dates against the legislation in force"
        )
    return warnings


def merge_combined(per_election: list[tuple[str, list[Event], dict[str, str]]]) -> list[Event]:
    """One list for a combined poll: poll-wide events once where every election agrees."""
    scope: dict[str, str] = {}
    by_key: dict[str, list[Event]] = {}
    for _, events, scopes in per_election:
        for event in events:
            by_key.setdefault(event.key, []).append(event)
            scope[event.key] = scopes[event.key]
    merged: list[Event] = []
    count = len(per_election)
    for key, events in by_key.items():
        same = {(e.date, e.time, e.earliest) for e in events}
        if scope[key] == "poll" and len(events) == count and len(same) == 1:
            merged.append(
                replace(events[0], election_id=None, provisional=any(e.provisional for e in events))
            )
        else:
            merged.extend(events)
    return merged


def per_id(value: str | list | tuple | None, ids: list[str], name: str) -> list:
    """One value for every id, or one per id in order (``--kind local --kind parish``)."""
    if value is None or isinstance(value, str):
        return [value] * len(ids)
    values = list(value)
    if len(values) == 1:
        return values * len(ids)
    if len(values) != len(ids):
        raise PollflowError(
            f"give --{name} once for every id, or once per id in the same order: "
            f"{len(values)} given for {len(ids)} ids"
        )
    return values


def timetable_for(
    election_id: str | list[str] | tuple[str, ...],
    nation: str | list[str | None] | None = None,
    kind: str | list[str | None] | None = None,
    overrides: dict[str, object] | None = None,
) -> Timetable:
    """The timetable of one poll, or of several combined on one polling day.

    ``kind`` and ``nation`` apply to every id, or give one per id (a list in the ids' order).
    ``overrides`` fixes dates someone chooses (``{"close_of_nominations": "2025-04-03T16:00"}``);
    events placed from them move with them.
    """
    ids = [election_id] if isinstance(election_id, str) else list(election_id)
    if not ids:
        raise PollflowError("give at least one election id")
    parsed = {k: parse_override(k, v) for k, v in overrides.items()} if overrides else {}
    known = definitions().kinds
    results = []
    kinds, nations = per_id(kind, ids, "kind"), per_id(nation, ids, "nation")
    for raw, one_kind, one_nation in zip(ids, kinds, nations, strict=True):
        resolved = resolve(raw, kind=one_kind, nation=one_nation, known_kinds=known)
        year = (
            resolved.election_id.poll_date.year if resolved.election_id.election_type == "canvass" else None
        )
        results.append((resolved, plan_for(resolved.kind, resolved.nation, year)))
    if parsed:
        _check_override_keys(parsed, [plan for _, plan in results])
    if len(results) == 1:
        return _single(*results[0], parsed)
    return _combined(results, parsed)


def _single(resolved, plan: Plan, overrides: dict[str, Override]) -> Timetable:
    eid = resolved.election_id
    events, may_warn, notes = compute_events(plan, eid, overrides)
    events.sort(key=_by_date)  # stable: the plan's order (the law's) within a day
    warnings = [*resolved.warnings, *notes, *gaps.warnings_for(resolved.kind, resolved.nation)]
    if may_warn:
        warnings += _warnings(events)
    return Timetable(
        election_id=eid.raw,
        kind=resolved.kind,
        nation=resolved.nation,
        poll_date=eid.poll_date,
        title=plan.title,
        events=tuple(events),
        warnings=tuple(warnings),
        elections=(ElectionRef(eid.raw, resolved.kind, resolved.nation, plan.title),),
        registration_year=eid.poll_date.year if plan.registration_year else None,
    )


def _combined(results: list, overrides: dict[str, Override]) -> Timetable:
    if any(plan.registration_year for _, plan in results):
        raise PollflowError(
            "a registration year (canvass.YYYY) is planned on its own, not combined with a poll"
        )
    if len({r.election_id.poll_date for r, _ in results}) > 1:
        raise PollDateError(
            "combined polls share one polling day; these ids are for "
            + ", ".join(f"{r.election_id.raw} ({r.election_id.poll_date})" for r, _ in results)
        )
    if len({r.election_id.raw for r, _ in results}) != len(results):
        raise PollflowError("the same election id is given twice")
    warnings: list[str] = []
    per_election = []
    for resolved, plan in results:
        mine = {k: v for k, v in overrides.items() if k in plan.settable}
        events, _, notes = compute_events(plan, resolved.election_id, mine)
        warnings.extend(resolved.warnings)
        warnings.extend(notes)
        warnings.extend(gaps.warnings_for(resolved.kind, resolved.nation))
        per_election.append((resolved.election_id.raw, events, plan.scopes))
    events = sort_events(merge_combined(per_election), combined=True)
    warnings.extend(_warnings(events))
    first = results[0][0]
    return Timetable(
        election_id="+".join(r.election_id.raw for r, _ in results),
        kind="combined",
        nation=first.nation,
        poll_date=first.election_id.poll_date,
        title=" + ".join(p.title for _, p in results),
        events=tuple(events),
        warnings=tuple(dict.fromkeys(warnings)),
        elections=tuple(ElectionRef(r.election_id.raw, r.kind, r.nation, p.title) for r, p in results),
    )


def _check_override_keys(overrides: dict[str, Override], plans: list[Plan]) -> None:
    settable = sorted({k for p in plans for k in p.settable})
    known = {e.key for p in plans for e in p.events}
    for key in overrides:
        if key in settable:
            continue
        kinds = ", ".join(sorted({p.kind for p in plans}))
        if key in known:
            raise OverrideError(
                f"{key} cannot be set for a {kinds} poll: the law fixes it from polling day; "
                f"the dates you can set are {', '.join(settable) or 'none'}"
            )
        raise OverrideError(
            f"unknown key '{key}' for a {kinds} poll: the dates you can set are "
            f"{', '.join(settable) or 'none'}"
        )
