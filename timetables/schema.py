"""Pydantic models of the timetable definition files (``definitions/*.yaml``).

A definition names a kind of poll, the nations it covers, the calendars its rules count in, and its
events. Each event has one or more rules; the first rule whose conditions (poll dates, nations,
photo ID) fit the poll is the one in force. A rule says when the event falls:

- ``on_day``: a fixed day (polling day, dissolution);
- ``latest``: a deadline ("not later than"), optionally with ``earliest`` for a window;
- ``asap_after``: "as soon as practicable after" another event;
- ``default`` with ``earliest``/``latest``: a date someone chooses (the declaration of result),
  shown at its usual date until it is set.

A ``Spec`` places a date relative to polling day or another event, in working days of a calendar,
calendar days (optionally rolled forward off a dies non) or months.

``make schema`` writes the JSON Schema to ``definitions/definition.schema.json``, so an editor
can check a definition file as it is written; a test keeps the published copy current.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Nation = Literal["england", "wales", "scotland", "northern-ireland"]
Basis = Literal["legislation", "electoral-commission", "derived", "unconfirmed"]
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
# An event may be a sibling of another: revised_register.determination.
EVENT_KEY_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$"
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _time(value: object) -> object:
    if isinstance(value, int):  # YAML reads an unquoted 16:00 as a sexagesimal integer
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str):
        if not TIME_PATTERN.match(value):
            raise ValueError(f"time '{value}' is not HH:MM (00:00 to 23:59)")
        return dt.time.fromisoformat(value)
    return value


TimeOfDay = Annotated[dt.time, BeforeValidator(_time)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Spec(Strict):
    """Where a date falls: a count of units before or after polling day or another event, or a
    fixed day of the year (``date: "12-01"``, in the id's year plus ``year``)."""

    before: str | None = Field(None, description="'poll' or the key of an earlier event")
    after: str | None = Field(None, description="'poll' or the key of another event")
    working_days: int | None = Field(None, ge=0)
    days: int | None = Field(None, ge=0, description="calendar days")
    months: int | None = Field(None, ge=0, description="calendar months")
    date: str | None = Field(
        None,
        pattern=r"^(\d{4}-)?(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$",
        description="a fixed day: MM-DD in the registration year (plus 'year'), or YYYY-MM-DD",
    )
    year: int = Field(0, ge=-1, le=5, description="with an MM-DD 'date': years after the id's year")
    calendar: str | None = Field(
        None,
        description="a calendar id, or an alias the definition maps to one "
        "(timetable, registration, absent_vote, expenses); default: timetable",
    )
    roll_forward: bool = Field(
        False, description="move a last day that is not a working day to the next working day"
    )
    plus_holidays: bool = Field(
        False,
        description="with 'after' and 'days': a day more for each bank holiday in the period (a "
        "weekday that is not a working day in the calendar), as a recall petition's signing period",
    )

    @model_validator(mode="after")
    def _one_anchor_one_unit(self) -> Spec:
        units = [u for u in ("working_days", "days", "months") if getattr(self, u) is not None]
        if self.date is not None:
            if self.before is not None or self.after is not None or units:
                raise ValueError("a fixed 'date' takes no 'before', 'after' or count")
            if len(self.date) > 5 and self.year:
                raise ValueError("'year' applies to an MM-DD date, not a full YYYY-MM-DD one")
            try:
                self.fixed_day(2024)  # 29 February exists in a leap year
            except ValueError as exc:
                raise ValueError(f"date '{self.date}' is not a day of the year") from exc
            return self
        if (self.before is None) == (self.after is None):
            raise ValueError("give exactly one of 'before' or 'after' (or a fixed 'date')")
        if len(units) != 1:
            raise ValueError("give exactly one of 'working_days', 'days' or 'months'")
        if self.roll_forward and self.working_days is not None:
            raise ValueError("'roll_forward' applies to 'days' or 'months', not 'working_days'")
        if self.plus_holidays and (self.days is None or self.after is None):
            raise ValueError("'plus_holidays' applies to a count of 'days' 'after' an anchor")
        return self

    @property
    def anchor(self) -> str:
        if self.date is not None:
            return "year"
        return self.before if self.before is not None else self.after  # type: ignore[return-value]

    def fixed_day(self, year: int) -> dt.date:
        """A fixed 'date' in the registration year ``year``."""
        if len(self.date) > 5:  # type: ignore[arg-type]
            return dt.date.fromisoformat(self.date)  # type: ignore[arg-type]
        month, day = (int(part) for part in self.date.split("-"))  # type: ignore[union-attr]
        return dt.date(year + self.year, month, day)

    @property
    def sign(self) -> int:
        return -1 if self.before is not None else 1

    def count_is_zero(self) -> bool:
        return not (self.working_days or self.days or self.months)


def _as_list(value: object) -> object:
    if value is None or isinstance(value, list):
        return value
    return [value]


SpecList = Annotated[list[Spec], BeforeValidator(_as_list)]


class Rule(Strict):
    """One version of an event's rule, with the conditions under which it is in force."""

    valid_from: dt.date | None = Field(
        None, alias="from", description="first polling day the rule applies to"
    )
    valid_to: dt.date | None = Field(None, alias="to", description="last polling day the rule applies to")
    nations: list[Nation] | None = Field(None, description="nations the rule applies in")
    photo_id: bool | None = Field(
        None, description="true: only where photo ID is required; false: only where it is not"
    )
    ballots: list[str] | None = Field(
        None,
        description="id types or TYPE.SUBTYPE the rule applies to (e.g. 'mayor', 'gla.a'); "
        "default: every ballot of the kind",
    )
    time: TimeOfDay | None = Field(None, description="time of day (HH:MM), where the law gives one")
    until: TimeOfDay | None = Field(None, description="end time, for a span such as polling hours")
    on: SpecList | None = Field(None, alias="on_day", description="a fixed day")
    latest: SpecList | None = None
    earliest: SpecList | None = None
    asap_after: Spec | None = None
    default: Spec | None = Field(None, description="the usual date of a chosen date, shown until it is set")
    deferred_latest: Spec | None = Field(
        None,
        description="a later limit the law allows in stated circumstances (see 'deferral'): a "
        "settable date past 'latest' up to this one is accepted as a deferral, with a warning",
    )
    deferral: str | None = Field(None, description="when the law allows the deferral, and its source")
    citation: str = Field(min_length=5)
    basis: Basis = "legislation"
    note: str | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> Rule:
        shapes = [
            self.on is not None,
            self.default is None and (self.latest is not None or self.earliest is not None),
            self.asap_after is not None,
            self.default is not None,
        ]
        if sum(shapes) != 1:
            raise ValueError(
                "a rule gives exactly one of: 'on_day'; 'latest' (with optional 'earliest'); "
                "'asap_after'; or 'default' (with optional 'earliest'/'latest')"
            )
        if self.earliest is not None and self.latest is None and self.default is None:
            raise ValueError("'earliest' needs 'latest' (a window) or 'default'")
        if (self.deferred_latest is None) != (self.deferral is None):
            raise ValueError("'deferred_latest' and 'deferral' (when the law allows it) go together")
        if self.deferred_latest is not None and self.shape != "latest":
            raise ValueError("'deferred_latest' extends a 'latest' rule")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError("'from' is after 'to'")
        return self

    @property
    def shape(self) -> str:
        if self.on is not None:
            return "on"
        if self.asap_after is not None:
            return "asap"
        if self.default is not None:
            return "assumed"
        return "window" if self.earliest is not None else "latest"

    def specs(self) -> list[Spec]:
        found: list[Spec] = []
        for group in (self.on, self.latest, self.earliest):
            found.extend(group or [])
        found.extend(s for s in (self.asap_after, self.default, self.deferred_latest) if s is not None)
        return found


class EventDef(Strict):
    """A timetable event: its label and the rules that place it."""

    label: str = Field(min_length=3)
    scope: Literal["poll", "election"] = Field(
        "poll",
        description="'election': each election of a combined poll keeps its own copy; "
        "'poll': shared when every election agrees",
    )
    settable: bool = Field(False, description="a date the Returning Officer (or ERO) fixes")
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: object) -> object:
        """Rule fields beside the label: the one rule, or defaults for every listed rule."""
        if not isinstance(data, dict):
            return data
        own = {k: v for k, v in data.items() if k in ("label", "scope", "settable", "rules")}
        shared = {k: v for k, v in data.items() if k not in own}
        if "rules" not in data:
            return {**own, "rules": [shared]}
        rules = data["rules"]
        if shared and isinstance(rules, list):
            own["rules"] = [{**shared, **r} if isinstance(r, dict) else r for r in rules]
        return own


Role = Literal[
    "returning-officer",
    "deputy-returning-officer",
    "electoral-services-manager",
    "electoral-services-officer",
    "electoral-registration-officer",
    "staffing-officer",
    "postal-votes-officer",
    "finance-officer",
]


class TaskDef(Strict):
    """Work around the statutory events: who does it, when it is due, what it waits for."""

    title: str = Field(min_length=3)
    description: str | None = None
    owner: Role = Field(description="the role the work is assigned to")
    due: Spec = Field(description="when it is due: from polling day, a statutory event, or another task")
    time: TimeOfDay | None = Field(
        None,
        description="time of day it is due; default: the event's own time when due on the "
        "event's day, else 17:00",
    )
    depends_on: list[Annotated[str, Field(pattern=KEY_PATTERN)]] = Field(default_factory=list)
    reminders: list[Annotated[int, Field(ge=0, le=60)]] = Field(
        default_factory=lambda: [5, 1, 0],
        description="working days before it is due to remind its owner (0: on the day)",
    )
    signoff: bool = Field(False, description="completing it needs a named Returning Officer or deputy")
    event: str | None = Field(None, description="the statutory event this work delivers")
    source: str | None = Field(
        None,
        min_length=5,
        description="where the work comes from: an Electoral Commission guidance part or project plan "
        "stage, a performance standard, or the statute; every task of a definition file cites one",
    )
    shared: bool = Field(
        False,
        description="at a combined poll, one task for the whole poll (poll cards, ballot paper orders, "
        "postal vote issues, the count): counted from the latest election's copy of its anchor "
        "('after') or the earliest ('before'), never one task per election",
    )


class TaskChange(Strict):
    """An overlay's change to a catalogue task: only the fields it gives change."""

    title: str | None = Field(None, min_length=3)
    description: str | None = None
    owner: Role | None = None
    due: Spec | None = None
    time: TimeOfDay | None = None
    depends_on: list[Annotated[str, Field(pattern=KEY_PATTERN)]] | None = None
    reminders: list[Annotated[int, Field(ge=0, le=60)]] | None = None
    signoff: bool | None = None
    source: str | None = Field(None, min_length=5)
    shared: bool | None = None


class Overlay(Strict):
    """A council's own changes to the work catalogue, without touching the statutory files."""

    add: dict[Annotated[str, Field(pattern=KEY_PATTERN)], TaskDef] = Field(default_factory=dict)
    change: dict[str, TaskChange] = Field(default_factory=dict)
    remove: list[str] = Field(default_factory=list)


class Monthly(Strict):
    """A series of events repeated each month of the id's year (monthly notices of alteration).

    Each event's key, and every anchor naming another event of the series, gets ".YYYY-MM" after
    its first part (``notice_of_alteration.determination`` becomes
    ``notice_of_alteration.2027-03.determination``). The anchor ``month`` is the first day of the
    series' month, and "{month}" in a label its name and year.
    """

    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(min_length=1)
    optional: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=list, description="months in which the series is optional (labels say so)"
    )
    optional_note: str = "optional during the canvass"
    events: dict[Annotated[str, Field(pattern=EVENT_KEY_PATTERN)], EventDef]


CalendarRef = str | dict[Nation, str]


class Definition(Strict):
    """One kind of poll (or a shared base file, whose name starts with an underscore)."""

    kind: str | None = Field(None, pattern=r"^[a-z][a-z-]*$")
    title: str | None = None
    nations: list[Nation] | None = None
    extends: str | None = Field(None, description="base file this one builds on")
    tasks_from: str | None = Field(
        None,
        description="a file whose work catalogue this one takes (not its events); this file's "
        "own tasks replace or, with null, remove them",
    )
    legislation: list[str] = Field(default_factory=list)
    rules_from: dt.date | None = Field(
        None, description="earliest polling day the definition's rules are known for"
    )
    calendars: dict[str, CalendarRef] = Field(default_factory=dict)
    photo_id: dict[Nation, dt.date] = Field(
        default_factory=dict,
        description="nations where voters must show photo ID, from which polling day",
    )
    events: dict[Annotated[str, Field(pattern=EVENT_KEY_PATTERN)], EventDef | None] = Field(
        default_factory=dict, description="events; null removes one the base file defines"
    )
    tasks: dict[Annotated[str, Field(pattern=KEY_PATTERN)], TaskDef | None] = Field(
        default_factory=dict, description="the work catalogue; null removes a base file's task"
    )
    registration_year: bool = Field(
        False,
        description="the events of an Electoral Registration Officer's year (ids canvass.YYYY), "
        "not of a poll: fixed dates count from the year, rules' from/to compare with its 1 December",
    )
    monthly: Monthly | None = Field(None, description="events repeated each month of the id's year")

    @model_validator(mode="after")
    def _tasks_cite_sources(self) -> Definition:
        # A council's overlay may add work of its own; the shipped catalogue says where each
        # piece comes from, so that a council can check it against the Commission's plan.
        uncited = [key for key, task in self.tasks.items() if task is not None and task.source is None]
        if uncited:
            raise ValueError(f"tasks {', '.join(uncited)} need a 'source' (guidance, plan stage or statute)")
        return self


def json_schema() -> dict:
    return Definition.model_json_schema(by_alias=True)


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
