"""Working-day calendars: which days are dies non, per rule source.

A calendar answers "the nth working day before (or after) this date" in constant time: it keeps the
ordinal of every working day in its range and, for every day, how many working days come before it.

Bank holidays come from GOV.UK's data (bundled, or the copy ``pollflow holidays refresh`` fetched).
Past the years that data covers, they come from the ``holidays`` package, and any date computed
across such a day is provisional: ``Calendar.provisional`` says so and the timetable warns.
"""

from __future__ import annotations

import datetime as dt
import json
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from dateutil.easter import easter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from timetables import paths
from timetables.datafiles import read_yaml
from timetables.errors import BankHolidayDataError, DefinitionError, OutsideCalendarError

DIVISIONS = ("england-and-wales", "scotland", "northern-ireland")
Division = Literal["england-and-wales", "scotland", "northern-ireland"]
DIVISION_NAMES = {
    "england-and-wales": "England and Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
}
# The subdivision codes the `holidays` package uses for GOV.UK's divisions.
HOLIDAYS_SUBDIVISION = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}

# Every calendar spans these years; outside them no date can be computed at all.
FIRST_DAY = dt.date(2012, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


# ---------------------------------------------------------------------------------------------
# Bank-holiday data


@dataclass(frozen=True)
class BankHolidayData:
    """GOV.UK's bank holidays by division, and the span of years the data covers."""

    days: dict[str, dict[dt.date, str]]
    covered_from: dt.date
    covered_to: dt.date
    source: str


def parse_bank_holidays(raw: object, source: str) -> BankHolidayData:
    """Check data in GOV.UK's format (``{division: {"events": [{"date", "title"}]}}``)."""
    if not isinstance(raw, dict):
        raise BankHolidayDataError(f"{source}: expected a JSON object keyed by division")
    missing = [d for d in DIVISIONS if d not in raw]
    if missing:
        raise BankHolidayDataError(
            f"{source}: missing division(s) {', '.join(missing)}; GOV.UK's data has {', '.join(DIVISIONS)}"
        )
    days: dict[str, dict[dt.date, str]] = {}
    years: set[int] = set()
    for division in DIVISIONS:
        events = raw[division].get("events") if isinstance(raw[division], dict) else None
        if not isinstance(events, list) or not events:
            raise BankHolidayDataError(f"{source}: division {division} has no 'events' list")
        found: dict[dt.date, str] = {}
        for n, event in enumerate(events):
            try:
                day = dt.date.fromisoformat(event["date"])
                title = str(event["title"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BankHolidayDataError(
                    f"{source}: {division} event {n + 1} is not "
                    f'{{"date": "YYYY-MM-DD", "title": ...}}: {event!r}'
                ) from exc
            found[day] = title
            years.add(day.year)
        days[division] = found
    # Coverage is whole years present in every division.
    per_division = [{d.year for d in days[div]} for div in DIVISIONS]
    common = set.intersection(*per_division)
    if not common:
        raise BankHolidayDataError(f"{source}: the divisions share no year of data")
    first, last = min(common), max(common)
    gaps = [y for y in range(first, last + 1) if y not in common]
    if gaps:
        raise BankHolidayDataError(
            f"{source}: no bank holidays for {', '.join(map(str, gaps))} in every division; "
            "the data must cover whole consecutive years"
        )
    return BankHolidayData(days, dt.date(first, 1, 1), dt.date(last, 12, 31), source)


def load_bank_holidays() -> BankHolidayData:
    """The user's refreshed copy when there is one, else the bundled copy."""
    user = paths.user_bank_holidays()
    path = user if user.exists() else paths.BUNDLED_BANK_HOLIDAYS
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BankHolidayDataError(f"{path}: cannot read bank-holiday data: {exc}") from exc
    return parse_bank_holidays(raw, str(path))


# ---------------------------------------------------------------------------------------------
# Days of thanksgiving or mourning


class DiesNon(BaseModel):
    """A day appointed for public thanksgiving or mourning."""

    model_config = ConfigDict(extra="forbid")

    date: dt.date
    name: str = Field(min_length=3)
    divisions: list[Division] = Field(default_factory=lambda: list(DIVISIONS), min_length=1)
    authority: str | None = None


class DiesNonFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[DiesNon] = Field(default_factory=list)


def read_dies_non(path: Path) -> list[DiesNon]:
    found = read_yaml(path, DiesNonFile, "list of days of mourning")
    return found.days if found else []


def load_dies_non() -> list[DiesNon]:
    """The bundled days of thanksgiving or mourning, then the user's."""
    return read_dies_non(paths.BUNDLED_DIES_NON) + read_dies_non(paths.user_dies_non())


# ---------------------------------------------------------------------------------------------
# Calendar definitions (definitions/calendars.yaml)


class CalendarDef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    bank_holidays: list[Division] = Field(min_length=1)
    easter_monday: bool = False
    mourning: bool
    citation: str


class CalendarsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    calendars: dict[str, CalendarDef]


def load_calendar_defs() -> dict[str, CalendarDef]:
    path = paths.DEFINITIONS_DIR / "calendars.yaml"
    try:
        return CalendarsFile.model_validate(yaml.safe_load(path.read_text())).calendars
    except (yaml.YAMLError, ValidationError) as exc:
        raise DefinitionError(f"{path}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# The calendar


class Calendar:
    """Working days of one rule source between FIRST_DAY and LAST_DAY."""

    def __init__(
        self,
        calendar_id: str,
        definition: CalendarDef,
        closed: dict[dt.date, str],
        covered_from: dt.date,
        covered_to: dt.date,
    ):
        self.id = calendar_id
        self.title = definition.title
        self.citation = definition.citation
        self.covered_from = covered_from
        self.covered_to = covered_to
        self._closed = closed
        self._first = FIRST_DAY.toordinal()
        self._last = LAST_DAY.toordinal()
        closed_ordinals = {d.toordinal() for d in closed}
        working = array("l")
        rank = array("l", [0]) * (self._last - self._first + 2)
        for i, ordinal in enumerate(range(self._first, self._last + 1)):
            rank[i] = len(working)
            # date.fromordinal(1) is a Monday, so (ordinal - 1) % 7 is the weekday.
            if (ordinal - 1) % 7 < 5 and ordinal not in closed_ordinals:
                working.append(ordinal)
        rank[self._last - self._first + 1] = len(working)
        self._working = working
        self._rank = rank
        self._dates: list[dt.date] | None = None  # the working days as dates, built when asked
        self._covered = (covered_from.toordinal(), covered_to.toordinal())

    def __repr__(self) -> str:
        return f"<Calendar {self.id}>"

    def _index(self, day: dt.date) -> int:
        ordinal = day.toordinal()
        if not self._first <= ordinal <= self._last:
            raise OutsideCalendarError(
                f"{day.isoformat()} is outside every calendar: pollflow counts working days "
                f"from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
            )
        return ordinal - self._first

    def _working_day(self, position: int, near: dt.date) -> dt.date:
        if not 0 <= position < len(self._working):
            raise OutsideCalendarError(
                f"counting working days from {near.isoformat()} leaves the range every calendar "
                f"covers ({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})"
            )
        return dt.date.fromordinal(self._working[position])

    def position(self, day: dt.date) -> tuple[list[dt.date], int] | None:
        """The working days, and ``day``'s place among them if it is a working day well inside
        the range: then ``days[place + n]`` is the nth working day after it (n > 0) or before it
        (n < 0). A timetable's many counts from one polling day are one index each."""
        i = self._index(day)
        place = self._rank[i]
        if self._rank[i + 1] == place or not 100 <= place < len(self._working) - 100:
            return None
        if self._dates is None:
            self._dates = [dt.date.fromordinal(o) for o in self._working]
        return self._dates, place

    def is_working_day(self, day: dt.date) -> bool:
        i = self._index(day)
        return self._rank[i + 1] != self._rank[i]

    def working_days_before(self, day: dt.date, count: int) -> dt.date:
        """The ``count``th working day before ``day`` (``day`` itself is day 0)."""
        if count == 0:
            return day
        return self._working_day(self._rank[self._index(day)] - count, day)

    def working_days_after(self, day: dt.date, count: int) -> dt.date:
        """The ``count``th working day after ``day`` (``day`` itself is day 0)."""
        if count == 0:
            return day
        return self._working_day(self._rank[self._index(day) + 1] + count - 1, day)

    def days_plus_holidays(self, day: dt.date, count: int) -> dt.date:
        """``count`` days after ``day``, and a day more for each bank holiday (a weekday that is
        not a working day here) from ``day`` to the end, the added days included."""

        def holiday(d: dt.date) -> bool:
            return d.weekday() < 5 and not self.is_working_day(d)

        end = day + dt.timedelta(days=count + holiday(day))
        current = day
        while current < end:
            current += dt.timedelta(days=1)
            end += dt.timedelta(days=holiday(current))
        return end

    def roll_forward(self, day: dt.date) -> dt.date:
        """``day`` if it is a working day, else the next working day (RPA 1983 s.119 style)."""
        return self._working_day(self._rank[self._index(day)], day)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days fall after ``start`` up to and including ``end``."""
        return self._rank[self._index(end) + 1] - self._rank[self._index(start) + 1]

    def provisional(self, a: dt.date, b: dt.date) -> bool:
        """Whether counting between ``a`` and ``b`` crosses days GOV.UK's data does not cover."""
        lo, hi = (a, b) if a <= b else (b, a)
        return lo.toordinal() < self._covered[0] or hi.toordinal() > self._covered[1]

    def why_closed(self, day: dt.date) -> str | None:
        """Why ``day`` is not a working day in this calendar, or None if it is one."""
        if day.weekday() >= 5:
            return day.strftime("%A")
        return self._closed.get(day)


# ---------------------------------------------------------------------------------------------
# Registry


class CalendarRegistry:
    """Builds each calendar once, from the current bank-holiday data and days of mourning."""

    def __init__(self) -> None:
        self._listeners: list = []
        self.reload()

    def on_reload(self, callback) -> None:
        """Call ``callback`` whenever the calendars are rebuilt (to drop what was built on them)."""
        self._listeners.append(callback)

    def reload(self) -> None:
        """Forget every built calendar: call after the bank holidays or days of mourning change."""
        for callback in self._listeners:
            callback()
        self._defs: dict[str, CalendarDef] | None = None
        self._data: BankHolidayData | None = None
        self._dies_non: list[DiesNon] | None = None
        self._built: dict[str, Calendar] = {}
        self._holidays_by_division: dict[str, dict[dt.date, str]] = {}

    @property
    def definitions(self) -> dict[str, CalendarDef]:
        if self._defs is None:
            self._defs = load_calendar_defs()
        return self._defs

    @property
    def data(self) -> BankHolidayData:
        if self._data is None:
            self._data = load_bank_holidays()
        return self._data

    @property
    def dies_non(self) -> list[DiesNon]:
        if self._dies_non is None:
            self._dies_non = load_dies_non()
        return self._dies_non

    def bank_holidays(self, division: str) -> dict[dt.date, str]:
        """GOV.UK's bank holidays in the years it covers, the ``holidays`` package's elsewhere."""
        if division not in self._holidays_by_division:
            import holidays  # imported here: only needed once per process

            data = self.data
            days = dict(data.days[division])
            outside = [
                y
                for y in range(FIRST_DAY.year, LAST_DAY.year + 1)
                if not data.covered_from.year <= y <= data.covered_to.year
            ]
            computed = holidays.country_holidays("GB", subdiv=HOLIDAYS_SUBDIVISION[division], years=outside)
            days.update((day, f"{name} (computed, not yet published)") for day, name in computed.items())
            self._holidays_by_division[division] = days
        return self._holidays_by_division[division]

    def get(self, calendar_id: str) -> Calendar:
        if calendar_id not in self._built:
            definition = self.definitions.get(calendar_id)
            if definition is None:
                raise DefinitionError(
                    f"unknown calendar '{calendar_id}'; calendars are: {', '.join(sorted(self.definitions))}"
                )
            self._built[calendar_id] = self._build(calendar_id, definition)
        return self._built[calendar_id]

    def _build(self, calendar_id: str, definition: CalendarDef) -> Calendar:
        closed: dict[dt.date, str] = {}
        for division in definition.bank_holidays:
            where = DIVISION_NAMES[division]
            for day, name in self.bank_holidays(division).items():
                closed.setdefault(day, f"{name} (bank holiday in {where})")
        for year in range(FIRST_DAY.year, LAST_DAY.year + 1):
            sunday = easter(year)
            closed.setdefault(sunday - dt.timedelta(days=2), "Good Friday")
            closed.setdefault(dt.date(year, 12, 24), "Christmas Eve")
            closed.setdefault(dt.date(year, 12, 25), "Christmas Day")
            if definition.easter_monday:
                closed.setdefault(sunday + dt.timedelta(days=1), "Easter Monday")
        if definition.mourning:
            for day in self.dies_non:
                if set(day.divisions) & set(definition.bank_holidays):
                    closed[day.date] = day.name
        data = self.data
        return Calendar(calendar_id, definition, closed, data.covered_from, data.covered_to)


registry = CalendarRegistry()


def get_calendar(calendar_id: str) -> Calendar:
    return registry.get(calendar_id)


def reload() -> None:
    """Rebuild calendars from the current data (after a refresh or a new day of mourning)."""
    registry.reload()
