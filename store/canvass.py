"""The annual canvass as work: the EMS's property-level progress report imported, its figures,
the follow-up work the figures call for, and the offer to defer the revised register.

Plain functions over the store (no Prefect); ``tasks/canvass.py`` wraps them as tasks and
``flows/run_canvass.py`` runs them. The progress file's format and the report's definitions are in
docs/canvass-progress.md.

Rules, from the registration year's own timetable (timetables/definitions/canvass.yaml, domain
notes §11.1), counted from each property's own dates rather than the canvass start:

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

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlmodel import Session

from store.audit import record
from store.canvass_models import CanvassAttachment, CanvassImport, CanvassProperty, CanvassReport
from store.models import (
    DateOverride,
    Election,
    Person,
    PersonRole,
    Poll,
    Reminder,
    TimetableEvent,
    WorkItem,
    utcnow,
)
from store.planning import OwnerPicker
from store.timeutil import LONDON, local
from timetables.errors import PollflowError

SOURCE = "canvass"  # WorkItem.source: sync_poll leaves this work alone
ROUTES = {1: "Route 1 (matched)", 2: "Route 2 (unmatched)", 3: "Route 3 (defined)"}
STATUSES = ("outstanding", "responded", "no_change", "changes", "empty")
RESPONDED = frozenset(STATUSES[1:])
HORIZON = dt.timedelta(days=7)  # "due soon": before the next weekly report
DUE_TIME = dt.time(17, 0)
REMINDER_TIME = dt.time(9, 0)
ITR_DAYS = 28
SHOWN_PROBLEMS = 5
SHOWN_RANGES = 100  # line ranges named in the one-line error; `pollflow canvass check` lists all
SHOWN_REFS = 10


class CanvassError(PollflowError):
    """A canvass that cannot be imported, reported or deferred as asked."""


class CanvassFileError(CanvassError):
    """A progress file refused whole, naming every bad line."""

    def __init__(self, path: str, problems: list[str], lines: list[int]):
        self.problems = problems
        self.lines = sorted(set(lines))
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        if len(problems) > SHOWN_PROBLEMS:
            shown += f"; and {len(problems) - SHOWN_PROBLEMS} more problems"
        where = ""
        if len(self.lines) > 1:
            ranges = line_ranges(self.lines).split(", ")
            where = ", ".join(ranges[:SHOWN_RANGES])
            if len(ranges) > SHOWN_RANGES:
                where += (
                    f" and {len(ranges) - SHOWN_RANGES} more; `pollflow canvass check {Path(path).name}` "
                    "lists every problem"
                )
            where = f" (bad lines: {where})"
        super().__init__(f"{path}: nothing imported: {shown}{where}")


def line_ranges(lines: list[int]) -> str:
    """'4, 7, 10-12': every line named, however many."""
    parts: list[str] = []
    start = prev = None
    for n in sorted(set(lines)):
        if prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


# --- the progress file -------------------------------------------------------------------------

# Each column and the header spellings read as it (compared without case, spaces or punctuation).
COLUMNS: dict[str, tuple[str, ...]] = {
    "property_ref": (
        "property_ref",
        "property reference",
        "property id",
        "property urn",
        "property_urn",
        "propref",
        "houseid",
        "property",
        "property number",
    ),
    "uprn": ("uprn",),
    "polling_district": (
        "polling_district",
        "polling district code",
        "polling district reference",
        "polling district id",
        "pollingdistrictid",
        "polling_place_district_reference",
        "district",
        "pd",
        "pd code",
    ),
    "route": ("route", "canvass route", "route no", "route number"),
    "status": ("status", "response status", "response", "canvass status", "response type"),
    "first_contact": (
        "first_contact",
        "first contact date",
        "date of first contact",
        "first communication",
        "first communication date",
        "date sent",
    ),
    "last_contact": ("last_contact", "last contact date", "date of last contact", "latest contact"),
    "contacts": (
        "contacts",
        "number of contacts",
        "contact count",
        "contact attempts",
        "no of contacts",
        "attempts",
    ),
    "canvass_form": ("canvass_form", "canvass form sent", "cf sent", "cf"),
    "personal_contact": (
        "personal_contact",
        "personal contact attempted",
        "personal contact date",
        "door knock",
        "visited",
        "visit date",
        "personal canvass",
    ),
    "response_date": ("response_date", "date responded", "response received", "reply date"),
    "potential_electors": (
        "potential_electors",
        "potential electors found",
        "potentials",
        "new electors",
    ),
    "identified": ("identified", "date identified", "identified date", "potential electors identified"),
    "itrs": ("itrs", "itrs sent", "itr count", "itr sent", "number of itrs", "invitations sent"),
    "first_itr": ("first_itr", "first itr date", "first itr sent", "first invitation"),
    "last_itr": ("last_itr", "last itr date", "last itr sent", "last invitation"),
    "itr_visit": ("itr_visit", "itr visited", "itr personal visit"),
    "applications": ("applications", "applications received", "applied"),
    "report_date": ("report_date", "as at", "as of", "extract date", "export date", "run date"),
}
REQUIRED = ("property_ref", "polling_district", "route", "status", "first_contact")
# Without these columns a figure would be a guess: the import says which.
OPTIONAL_NOTES = {
    "personal_contact": "every Route 2 property not replying counts as needing a personal contact",
    "canvass_form": "every Route 2 property not replying counts as needing a Canvass Form",
    "potential_electors": "no invitations to register are counted",
}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_ALIASES = {_norm(alias): name for name, aliases in COLUMNS.items() for alias in aliases}

ROUTE_WORDS = {
    "1": 1,
    "2": 2,
    "3": 3,
    "r1": 1,
    "r2": 2,
    "r3": 3,
    "route1": 1,
    "route2": 2,
    "route3": 3,
    "matched": 1,
    "unmatched": 2,
    "defined": 3,
}
STATUS_WORDS = {
    "outstanding": "outstanding",
    "noresponse": "outstanding",
    "noreply": "outstanding",
    "notresponded": "outstanding",
    "awaitingresponse": "outstanding",
    "awaiting": "outstanding",
    "pending": "outstanding",
    "none": "outstanding",
    "responded": "responded",
    "responsereceived": "responded",
    "replied": "responded",
    "complete": "responded",
    "completed": "responded",
    "nochange": "no_change",
    "nochanges": "no_change",
    "confirmed": "no_change",
    "changes": "changes",
    "changed": "changes",
    "amended": "changes",
    "changesnotified": "changes",
    "empty": "empty",
    "void": "empty",
    "vacant": "empty",
    "noresidents": "empty",
}
YES = {"y", "yes", "true", "1", "x"}
NO = {"", "n", "no", "false", "0"}
FLAGS = YES | NO
DATE_FORMATS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"),  # ISO, perhaps with a time
    re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: .*)?$"),  # UK day/month/year
)
UPRN = re.compile(r"^\d{1,12}$")


@dataclass(slots=True)
class Prop:
    """One property of a progress report."""

    line: int
    property_ref: str
    uprn: str | None
    district: str
    route: int
    status: str
    first_contact: dt.date | None = None
    last_contact: dt.date | None = None
    contacts: int = 0
    canvass_form: bool = False
    personal_contact: bool = False
    personal_contact_date: dt.date | None = None
    response_date: dt.date | None = None
    potential_electors: int = 0
    identified: dt.date | None = None
    itrs: int = 0
    first_itr: dt.date | None = None
    last_itr: dt.date | None = None
    itr_visit: bool = False
    applications: int = 0


PROP_FIELDS = tuple(Prop.__slots__)


@dataclass
class ProgressFile:
    path: str
    sha256: str
    report_date: dt.date
    rows: list[Prop]
    columns: list[str]  # the columns found, by their pollflow names
    notes: list[str] = field(default_factory=list)  # what the figures cannot say, for want of a column


def _shown(text: str, limit: int = 40) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def parse_date(text: str) -> dt.date | None:
    """YYYY-MM-DD (perhaps with a time) or DD/MM/YYYY; blank is None; else ValueError."""
    text = text.strip()
    if not text:
        return None
    for number, pattern in enumerate(DATE_FORMATS):
        match = pattern.match(text)
        if match:
            a, b, c = (int(g) for g in match.groups())
            return dt.date(a, b, c) if number == 0 else dt.date(c, b, a)
    raise ValueError(text)


def read_progress(
    path: str | Path,
    *,
    report_date: dt.date | None = None,
    today: dt.date | None = None,
    year: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ProgressFile:
    """Read and check a progress file; any problem refuses it whole, naming each bad line.

    The report's date comes from a report_date column (the same on every line), else from
    ``report_date``, else it is ``today``. ``on_progress(lines_read, total_lines)`` is called
    now and then for a progress bar.
    """
    path = Path(path)
    today = today or dt.datetime.now(LONDON).date()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CanvassError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CanvassError(
            f"{path}: nothing imported: line {line}: not UTF-8 text (byte {exc.start}): export the "
            "report as CSV UTF-8 and import it again"
        ) from exc
    if not text.strip():
        raise CanvassError(
            f"{path}: nothing imported: the file is empty: give a header line ({', '.join(REQUIRED)}, "
            "...) and one line per property"
        )
    try:
        return _read(path, data, text, report_date, today, year, on_progress)
    except csv.Error as exc:
        raise CanvassError(f"{path}: nothing imported: not a readable CSV file: {exc}") from exc


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _read(
    path: Path,
    data: bytes,
    text: str,
    given_date: dt.date | None,
    today: dt.date,
    year: int | None,
    on_progress: Callable[[int, int], None] | None,
) -> ProgressFile:
    first_line = next(line for line in text.splitlines() if line.strip())
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(first_line))
    header = next(fields for fields in reader if any(f.strip() for f in fields))
    index: dict[str, int] = {}
    repeated = []
    for i, name in enumerate(header):
        known = _ALIASES.get(_norm(name))
        if known is None:
            continue  # addresses, wards and the like: not needed here
        if known in index:
            repeated.append(f"'{_shown(name)}' and '{_shown(header[index[known]])}' are both {known}")
        index[known] = i
    if repeated:
        raise CanvassError(f"{path}: nothing imported: line 1: {'; '.join(repeated)}")
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        hint = ""
        if len(header) == 1:
            hint = " (the header is one column: separate the columns with commas)"
        spellings = "; ".join(f"{c} (or {', '.join(repr(a) for a in COLUMNS[c][1:4])})" for c in missing)
        raise CanvassError(f"{path}: nothing imported: line 1: missing column(s) {spellings}{hint}")

    problems: list[tuple[int, str]] = []
    rows: list[Prop] = []
    seen: dict[str, int] = {}
    dates: dict[str, dt.date | None] = {}
    routes: dict[str, int | None] = {}  # each spelling looked up once
    statuses: dict[str, str | None] = {}
    file_dates: dict[dt.date, int] = {}
    width = len(header)
    get = {name: index.get(name, width) for name in COLUMNS}  # an absent column reads as ""
    total = text.count("\n") + 1
    start = reader.line_num + 1

    def date_of(value: str, name: str, found: list[str]) -> dt.date | None:
        try:
            return dates[value]
        except KeyError:
            pass
        try:
            day = parse_date(value)
        except ValueError:
            found.append(f"{name} '{_shown(value)}' is not a date (YYYY-MM-DD or DD/MM/YYYY)")
            return None
        dates[value] = day
        return day

    def count_of(value: str, name: str, found: list[str]) -> int:
        value = value.strip()
        if not value:
            return 0
        if value.isdigit():
            return int(value)
        found.append(f"{name} '{_shown(value)}' is not a whole number of 0 or more")
        return 0

    def flag_of(value: str, name: str, found: list[str]) -> bool:
        word = value.strip().lower()
        if word in YES:
            return True
        if word in NO:
            return False
        found.append(f"{name} '{_shown(value)}' is not yes or no")
        return False

    dated: list[tuple[Prop, list[tuple[str, dt.date]]]] = []
    for fields in reader:
        n, start = start, reader.line_num + 1
        if on_progress is not None and n % 5000 == 0:
            on_progress(n, total)
        if not any(f.strip() for f in fields):
            continue
        found: list[str] = []
        if len(fields) > width:
            found.append(f"{len(fields)} fields but the header has {width} columns")

        vals = [f.strip() for f in fields]
        vals.extend([""] * (width + 1 - len(vals)))
        ref = vals[get["property_ref"]]
        if not ref:
            found.append("no property reference")
        elif len(ref) > 100:
            found.append(f"property reference '{_shown(ref)}' is longer than 100 characters")
        elif ref in seen:
            found.append(f"property {ref} is also on line {seen[ref]}: give each property once")
        else:
            seen[ref] = n
        uprn = vals[get["uprn"]] or None
        if uprn is not None and not UPRN.match(uprn):
            found.append(f"UPRN '{_shown(uprn)}' is not a UPRN (up to 12 digits)")
        district = vals[get["polling_district"]]
        if not district:
            found.append("no polling district")
        elif len(district) > 50:
            found.append(f"polling district '{_shown(district)}' is longer than 50 characters")
        route_text = vals[get["route"]]
        route = routes.get(route_text)
        if route is None:
            route = routes[route_text] = ROUTE_WORDS.get(_norm(route_text))
        if route is None:
            found.append(
                f"route '{_shown(route_text) or '(empty)'}' is not 1, 2 or 3 "
                "(1 matched, 2 unmatched, 3 defined)"
            )
        status_text = vals[get["status"]]
        status = statuses.get(status_text)
        if status is None:
            status = statuses[status_text] = STATUS_WORDS.get(_norm(status_text))
        if status is None:
            found.append(
                f"status '{_shown(status_text) or '(empty)'}' is not a response status: "
                "outstanding, responded, no change, changes or empty"
            )
        row = Prop(n, ref, uprn, district, route or 0, status or "")
        when: list[tuple[str, dt.date]] = []
        for name in ("first_contact", "last_contact", "response_date", "identified", "first_itr", "last_itr"):
            raw = vals[get[name]]
            if raw:
                day = date_of(raw, name, found)
                setattr(row, name, day)
                if day is not None:
                    when.append((name, day))
        visit = vals[get["personal_contact"]]
        if visit.lower() in FLAGS:
            row.personal_contact = flag_of(visit, "personal_contact", found)
        else:
            day = date_of(visit, "personal_contact", found)
            row.personal_contact, row.personal_contact_date = day is not None, day
            if day is not None:
                when.append(("personal_contact", day))
        row.canvass_form = flag_of(vals[get["canvass_form"]], "canvass_form", found)
        row.itr_visit = flag_of(vals[get["itr_visit"]], "itr_visit", found)
        row.contacts = count_of(vals[get["contacts"]], "contacts", found)
        row.potential_electors = count_of(vals[get["potential_electors"]], "potential_electors", found)
        row.itrs = count_of(vals[get["itrs"]], "itrs", found)
        row.applications = count_of(vals[get["applications"]], "applications", found)
        if vals[get["report_date"]]:
            day = date_of(vals[get["report_date"]], "report_date", found)
            if day is not None:
                file_dates.setdefault(day, n)
        # What the line says must hang together.
        if row.last_contact and not row.first_contact:
            found.append("last_contact given without first_contact")
        elif row.last_contact and row.first_contact and row.last_contact < row.first_contact:
            found.append(
                f"last_contact {row.last_contact.isoformat()} is before first_contact "
                f"{row.first_contact.isoformat()}"
            )
        if row.first_contact and vals[get["contacts"]] and row.contacts == 0:
            found.append("contacts is 0 but there is a first_contact")
        if row.potential_electors and row.identified is None:
            found.append(
                f"{row.potential_electors} potential elector(s) but no date identified "
                "(the 28 days for an invitation to register run from it)"
            )
        if row.applications > row.potential_electors:
            found.append(
                f"applications ({row.applications}) more than potential_electors ({row.potential_electors})"
            )
        problems.extend((n, p) for p in found)
        rows.append(row)
        if when:
            dated.append((row, when))

    report_date = given_date
    if file_dates:
        if len(file_dates) > 1:
            listed = ", ".join(f"{d.isoformat()} (line {n})" for d, n in sorted(file_dates.items()))
            raise CanvassError(
                f"{path}: nothing imported: the report_date column gives several dates: {listed}"
            )
        (in_file,) = file_dates
        if given_date is not None and given_date != in_file:
            raise CanvassError(
                f"{path}: nothing imported: the file reports on {in_file.isoformat()} but the report "
                f"date given is {given_date.isoformat()}"
            )
        report_date = in_file
    report_date = report_date or today
    if report_date > today:
        raise CanvassError(
            f"{path}: nothing imported: the report date {report_date.isoformat()} is in the future "
            f"(today is {today.isoformat()})"
        )
    if year is not None and not (dt.date(year, 1, 1) <= report_date <= dt.date(year + 1, 3, 31)):
        raise CanvassError(
            f"{path}: nothing imported: the report date {report_date.isoformat()} is not in the {year} "
            f"registration year (1 January {year} to 31 March {year + 1})"
        )
    for row, when in dated:
        for name, day in when:
            if day > report_date:
                problems.append(
                    (row.line, f"{name} {day.isoformat()} is after the report date {report_date.isoformat()}")
                )
    if problems:
        problems.sort(key=lambda p: p[0])  # stable: each line's problems in the order found
        raise CanvassFileError(str(path), [f"line {n}: {p}" for n, p in problems], [n for n, _ in problems])
    if not rows:
        raise CanvassError(f"{path}: nothing imported: no properties in the file, only the header line")
    if on_progress is not None:
        on_progress(total, total)
    notes = [f"no {c} column: {why}" for c, why in OPTIONAL_NOTES.items() if c not in index]
    return ProgressFile(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        report_date=report_date,
        rows=rows,
        columns=sorted(index),
        notes=notes,
    )


# --- the rules, from the registration year's timetable -----------------------------------------


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


def canvass_year(poll: Poll) -> int:
    """2027 for canvass.2027 or canvass.wychwood.2027."""
    return int(poll.key.rsplit(".", 1)[1])


def is_canvass(poll: Poll) -> bool:
    return poll.key.startswith("canvass.")


def find_canvass(session: Session, key: str) -> Poll:
    from store.queries import find_poll

    poll = find_poll(session, key)
    if not is_canvass(poll):
        raise CanvassError(f"{poll.key} is a poll, not a registration year: give canvass.YYYY")
    return poll


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
    overrides = {
        o.key: o.value for o in session.scalars(select(DateOverride).where(DateOverride.poll_id == poll.id))
    }
    tt = timetable_for(poll.key, nation=poll.nation, overrides=overrides)
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


# --- what each property needs ------------------------------------------------------------------


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
FOLLOW_UP_PREFIX = "canvass:"
DEFERRAL_OFFER = "canvass:deferral_offer"
DEFERRAL_UNSUPPORTED = "canvass:deferral_unsupported"


def work_key(need: str, district: str) -> str:
    return f"{FOLLOW_UP_PREFIX}{need}:{district}"


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


# --- importing -----------------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    poll_key: str
    import_id: int
    report_date: dt.date
    properties: int
    status: str  # current | superseded | already imported
    superseded_id: int | None = None
    figures: dict = field(default_factory=dict)
    groups: dict | None = None  # the need groups, when computed now (not persisted)
    notes: list[str] = field(default_factory=list)

    @property
    def already(self) -> bool:
        return self.status == "already imported"

    def summary(self) -> dict:
        return {
            "poll_key": self.poll_key,
            "import_id": self.import_id,
            "report_date": self.report_date.isoformat(),
            "properties": self.properties,
            "status": self.status,
            "superseded_import": self.superseded_id,
            "notes": self.notes,
        }


def current_import(session: Session, poll: Poll) -> CanvassImport | None:
    return session.scalars(
        select(CanvassImport).where(CanvassImport.poll_id == poll.id, CanvassImport.status == "current")
    ).first()


def import_progress(
    session: Session,
    poll: Poll,
    parsed: ProgressFile,
    actor: str,
    flow_run_id: str | None = None,
) -> ImportOutcome:
    """Store a checked progress file. The same file again changes nothing; a report on an older day
    than the current one is kept for the record and the trend but changes no property."""
    existing = session.scalars(
        select(CanvassImport).where(CanvassImport.poll_id == poll.id, CanvassImport.sha256 == parsed.sha256)
    ).first()
    if existing is not None:
        return ImportOutcome(
            poll.key,
            existing.id,
            existing.report_date,
            existing.properties,
            "already imported",
            figures=existing.figures,
        )
    rules = rules_for(session, poll)
    year = rules.year
    if not (dt.date(year, 1, 1) <= parsed.report_date <= dt.date(year + 1, 3, 31)):
        raise CanvassError(
            f"{parsed.path}: nothing imported: the report date {parsed.report_date.isoformat()} is not in "
            f"the {year} registration year"
        )
    figures, groups = analyse(parsed.rows, parsed.report_date, rules)
    current = current_import(session, poll)
    newest = current is None or parsed.report_date >= current.report_date
    row = CanvassImport(
        poll_id=poll.id,
        sha256=parsed.sha256,
        filename=Path(parsed.path).name,
        report_date=parsed.report_date,
        properties=len(parsed.rows),
        status="current" if newest else "superseded",
        imported_by=actor,
        figures=figures,
    )
    session.add(row)
    session.flush()
    if newest:
        if current is not None:
            current.status = "superseded"
        _replace_properties(session, poll, row.id, parsed.rows)
    record(
        session,
        actor,
        "canvass progress imported",
        poll_id=poll.id,
        subject=row.filename,
        details={
            "import_id": row.id,
            "sha256": parsed.sha256,
            "report_date": parsed.report_date.isoformat(),
            "properties": len(parsed.rows),
            "status": row.status,
            "supersedes": current.id if newest and current is not None else None,
            "superseded_by": None if newest else current.id,
            "response_rate": figures["routes"]["all"]["rate"],
        },
        flow_run_id=flow_run_id,
    )
    return ImportOutcome(
        poll.key,
        row.id,
        parsed.report_date,
        len(parsed.rows),
        row.status,
        superseded_id=current.id if newest and current is not None else None,
        figures=figures,
        groups=groups if newest else None,
        notes=parsed.notes,
    )


COLUMN_NAMES = ("poll_id", "import_id", *PROP_FIELDS)
_DATE_FIELDS = {i for i, f in enumerate(PROP_FIELDS) if Prop.__annotations__[f].startswith("dt.date")}


def _replace_properties(session: Session, poll: Poll, import_id: int, rows: list[Prop]) -> None:
    """The current report's properties, all of them: the old ones out, the new ones in, in one
    transaction (nothing half-replaced). A report has up to a few hundred thousand rows, so they go
    through the driver's own bulk path: COPY on PostgreSQL, executemany of tuples on SQLite."""
    session.execute(delete(CanvassProperty).where(CanvassProperty.poll_id == poll.id))
    connection = session.connection()
    columns = ", ".join(COLUMN_NAMES)
    head = (poll.id, import_id)
    values = (tuple(getattr(p, f) for f in PROP_FIELDS) for p in rows)
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.dbapi_connection.cursor()
        with cursor.copy(f"COPY canvass_property ({columns}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(head + row)
        return
    if connection.dialect.name != "sqlite":  # any other database: SQLAlchemy's portable path
        session.execute(
            insert(CanvassProperty.__table__),
            [dict(zip(COLUMN_NAMES, head + r, strict=True)) for r in values],
        )
        return

    # SQLite keeps dates as ISO text and booleans as 0/1, as SQLAlchemy's types write them.
    def stored(row: tuple) -> tuple:
        return head + tuple(
            (v.isoformat() if v is not None else None)
            if i in _DATE_FIELDS
            else (int(v) if isinstance(v, bool) else v)
            for i, v in enumerate(row)
        )

    marks = ", ".join("?" for _ in COLUMN_NAMES)
    connection.exec_driver_sql(
        f"INSERT INTO canvass_property ({columns}) VALUES ({marks})", [stored(r) for r in values]
    )


def load_properties(session: Session, poll: Poll) -> list[Prop]:
    """The current report's properties (read through the driver: SQLite's dates come back as
    text, each distinct one parsed once)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        columns = [getattr(CanvassProperty, f) for f in PROP_FIELDS]
        result = session.execute(select(*columns).where(CanvassProperty.poll_id == poll.id))
        return [Prop(*values) for values in result]
    rows = connection.exec_driver_sql(
        f"SELECT {', '.join(PROP_FIELDS)} FROM canvass_property WHERE poll_id = ? ORDER BY line", (poll.id,)
    ).fetchall()
    days: dict[str | None, dt.date | None] = {None: None}

    def day(text: str | None) -> dt.date | None:
        found = days.get(text, days)
        if found is days:
            found = days[text] = dt.date.fromisoformat(text)
        return found

    flags = {i for i, f in enumerate(PROP_FIELDS) if Prop.__annotations__[f] == "bool"}
    out = []
    for values in rows:
        out.append(
            Prop(
                *(
                    day(v) if i in _DATE_FIELDS else (bool(v) if i in flags else v)
                    for i, v in enumerate(values)
                )
            )
        )
    return out


# --- the report ------------------------------------------------------------------------------------


@dataclass
class Report:
    poll: Poll
    rules: Rules
    current: CanvassImport
    figures: dict
    previous: dict | None  # the figures of the report a week or more before, for the changes
    history: list[dict]  # one per report date, oldest first: {report_date, rates by route}
    groups: dict[tuple[str, str], Group]

    @property
    def report_date(self) -> dt.date:
        return self.current.report_date

    def age(self, today: dt.date) -> int:
        return (today - self.report_date).days

    def stored_figures(self) -> dict:
        """The figures as a weekly report keeps them: with the week before's, for the change."""
        before = None
        if self.previous is not None:
            before = {"report_date": self.previous["report_date"], "routes": self.previous["routes"]}
        return {**self.figures, "week_before": before}


def build_report(session: Session, poll: Poll, rows: list[Prop] | None = None) -> Report:
    """The figures of the current progress report, recomputed from its properties against the
    timetable as it stands (a deferral moves the last day for applications), with the week before
    and the trend."""
    current = current_import(session, poll)
    if current is None:
        raise CanvassError(
            f"no progress report imported for {poll.key} yet: import the EMS's with "
            f"`pollflow canvass import {poll.key} FILE`"
        )
    rules = rules_for(session, poll)
    figures, groups = analyse(
        rows if rows is not None else load_properties(session, poll), current.report_date, rules
    )
    imports = session.scalars(
        select(CanvassImport)
        .where(CanvassImport.poll_id == poll.id)
        .order_by(CanvassImport.report_date, CanvassImport.imported_at, CanvassImport.id)
    ).all()
    by_day: dict[dt.date, CanvassImport] = {}
    for imp in imports:
        if imp.report_date <= current.report_date:
            by_day[imp.report_date] = imp  # the last imported for each day
    by_day[current.report_date] = current
    history = [
        {
            "report_date": day.isoformat(),
            **{f"route{r}": imp.figures["routes"][str(r)]["rate"] for r in (1, 2, 3)},
            "all": imp.figures["routes"]["all"]["rate"],
        }
        for day, imp in sorted(by_day.items())
    ]
    history[-1].update({f"route{r}": figures["routes"][str(r)]["rate"] for r in (1, 2, 3)})
    history[-1]["all"] = figures["routes"]["all"]["rate"]
    week_before = [imp for day, imp in sorted(by_day.items()) if day <= current.report_date - HORIZON]
    previous = week_before[-1].figures if week_before else None
    return Report(poll, rules, current, figures, previous, history, groups)


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def save_weekly_report(
    session: Session, report: Report, week: str, chart: bytes, actor: str, flow_run_id: str | None = None
) -> tuple[CanvassReport, bool]:
    """The week's report (one per poll and ISO week); changed only when a newer progress report
    came in. Returns (row, changed)."""
    row = session.scalars(
        select(CanvassReport).where(CanvassReport.poll_id == report.poll.id, CanvassReport.week == week)
    ).first()
    figures = report.stored_figures()
    if row is not None and row.import_id == report.current.id and row.figures == figures:
        return row, False
    if row is None:
        row = CanvassReport(
            poll_id=report.poll.id,
            week=week,
            import_id=report.current.id,
            report_date=report.report_date,
            figures=figures,
            chart=chart,
        )
        session.add(row)
    else:
        row.import_id, row.report_date, row.figures, row.chart = (
            report.current.id,
            report.report_date,
            figures,
            chart,
        )
        row.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor,
        "canvass report made",
        poll_id=report.poll.id,
        subject=week,
        details={
            "report_id": row.id,
            "import_id": report.current.id,
            "report_date": report.report_date.isoformat(),
            "response_rate": report.figures["routes"]["all"]["rate"],
        },
        flow_run_id=flow_run_id,
    )
    return row, True


def weekly_report(session: Session, poll: Poll, week: str) -> CanvassReport | None:
    return session.scalars(
        select(CanvassReport).where(CanvassReport.poll_id == poll.id, CanvassReport.week == week)
    ).first()


def holders(session: Session, role: str) -> list[Person]:
    return list(
        session.scalars(
            select(Person)
            .join(PersonRole, PersonRole.person_id == Person.id)
            .where(PersonRole.role == role, Person.active)
            .order_by(Person.email)
        ).all()
    )


def attach(session: Session, dedupe_key: str, filename: str, content_type: str, data: bytes) -> None:
    """The file an outbox message carries (once per message)."""
    if session.scalars(
        select(CanvassAttachment.id).where(CanvassAttachment.dedupe_key == dedupe_key)
    ).first():
        return
    session.add(
        CanvassAttachment(dedupe_key=dedupe_key, filename=filename, content_type=content_type, data=data)
    )


def attachments(session: Session, dedupe_key: str) -> list[CanvassAttachment]:
    return list(
        session.scalars(select(CanvassAttachment).where(CanvassAttachment.dedupe_key == dedupe_key)).all()
    )


def reportable(session: Session, as_of: dt.date) -> list[Poll]:
    """Registration years with a progress report whose revised register is not yet two weeks
    published: the ones the weekly report covers."""
    polls = session.scalars(
        select(Poll)
        .join(CanvassImport, CanvassImport.poll_id == Poll.id)
        .where(Poll.key.like("canvass.%"), Poll.status == "planned", CanvassImport.status == "current")
        .order_by(Poll.key)
    ).all()
    out = []
    for poll in polls:
        published = session.scalars(
            select(TimetableEvent.date).where(
                TimetableEvent.poll_id == poll.id, TimetableEvent.key == "revised_register"
            )
        ).first()
        if published is None or as_of <= published + dt.timedelta(days=14):
            out.append(poll)
    return out


# --- follow-up work -------------------------------------------------------------------------------


@dataclass
class WorkChanges:
    raised: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.raised or self.updated or self.closed or self.reopened)

    def summary(self) -> dict:
        return {
            "raised": self.raised,
            "updated": self.updated,
            "closed": self.closed,
            "reopened": self.reopened,
            "unchanged": self.unchanged,
        }


def _due_at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, DUE_TIME, tzinfo=LONDON)


def _describe(group: Group, need: Need, rules: Rules, as_of: dt.date) -> tuple[str, str, dt.date]:
    dues = sorted(group.due)
    n = len(dues)
    earliest = dues[0][0]
    overdue = sum(1 for due, _ in dues if due < as_of)
    soon = sum(1 for due, _ in dues if as_of <= due <= as_of + HORIZON)
    title = need.title.format(n=n, properties="property" if n == 1 else "properties", district=group.district)
    refs = ", ".join(ref for _, ref in dues[:SHOWN_REFS]) + (
        f" and {n - SHOWN_REFS} more" if n > SHOWN_REFS else ""
    )
    lines = [
        f"{n} {'property' if n == 1 else 'properties'} in polling district {group.district}: "
        f"{overdue} overdue, {soon} due within 7 days; the first is due {earliest:%a %d %b %Y}.",
    ]
    if group.people:
        lines.append(f"{group.people} potential elector(s) still to apply.")
    lines += [
        f"Rule: {need.rule}; nothing is due after {rules.last_application:%d %B %Y}, the last day for "
        "applications to the revised register.",
        f"Source: {rules.citations.get(need.citation_of) or _citation(need)}",
        f"Properties, earliest due first: {refs}.",
        f"Full list: pollflow canvass list {rules.poll_key} --need {need.key} --district {group.district}",
    ]
    return title, "\n".join(lines), earliest


def _citation(need: Need) -> str:
    return {
        "invitations_to_register": 'RPA 1983 s.9E; EC "Running electoral registration"',
        "notice_requiring_application": 'RPA 1983 s.9E; EC "Running electoral registration"',
    }.get(need.citation_of, 'EC "Delivering the annual canvass"')


def raise_follow_up_work(
    session: Session,
    poll: Poll,
    actor: str,
    flow_run_id: str | None = None,
    groups: dict[tuple[str, str], Group] | None = None,
) -> WorkChanges:
    """Make the canvass's follow-up work match the current progress report: one work item per
    need and polling district, owned by the role that does it, due when its first property is;
    updated when the numbers change; closed (not deleted) when the need has gone."""
    changes = WorkChanges()
    current = current_import(session, poll)
    if current is None:
        return changes
    rules = rules_for(session, poll)
    as_of = current.report_date
    if groups is None:
        _, groups = analyse(load_properties(session, poll), as_of, rules)
    stored = {
        w.key: w
        for w in session.scalars(
            select(WorkItem).where(
                WorkItem.poll_id == poll.id,
                WorkItem.source == SOURCE,
                WorkItem.key.like(f"{FOLLOW_UP_PREFIX}%"),
            )
        ).all()
        if w.key.split(":")[1] in NEEDS
    }
    picker: OwnerPicker | None = None
    reminders = {
        r.work_item_id: r
        for r in session.scalars(
            select(Reminder).where(
                Reminder.label == "on the day", Reminder.work_item_id.in_([w.id for w in stored.values()])
            )
        ).all()
    }
    due_days: list[tuple[WorkItem, dt.date]] = []
    audit = dict(poll_id=poll.id, flow_run_id=flow_run_id)
    wanted = set()
    for (need_key, district), group in sorted(groups.items()):
        need = NEEDS[need_key]
        key = work_key(need_key, district)
        wanted.add(key)
        title, description, earliest = _describe(group, need, rules, as_of)
        due_at = _due_at(earliest)
        details = {
            "properties": len(group.due),
            "due": local(due_at).isoformat(),
            "report_date": as_of.isoformat(),
        }
        item = stored.get(key)
        if item is None:
            picker = picker or OwnerPicker(session)
            owner = picker.pick(need.owner_role)
            item = WorkItem(
                poll_id=poll.id,
                key=key,
                title=title,
                description=description,
                owner_role=need.owner_role,
                owner_id=owner.id if owner else None,
                due_at=due_at,
                anchor="canvass progress report",
                event_key=need.event_key,
                source=SOURCE,
            )
            session.add(item)
            changes.raised.append(key)
            record(
                session,
                actor,
                "canvass work raised",
                subject=key,
                details={**details, "owner": owner.email if owner else None},
                **audit,
            )
        else:
            if item.status != "open":
                by_person = item.completed_by_id is not None and item.completed_at is not None
                if by_person and local(item.completed_at).date() >= as_of:
                    changes.unchanged += 1  # done by someone since this report was made
                    continue
                item.status, item.completed_at, item.completed_by_id, item.note = "open", None, None, None
                changes.reopened.append(key)
                record(session, actor, "canvass work reopened", subject=key, details=details, **audit)
            elif (item.title, item.description, item.due_at) != (title, description, due_at):
                changes.updated.append(key)
                was = re.match(r"\D*(\d+)", item.title)
                record(
                    session,
                    actor,
                    "canvass work updated",
                    subject=key,
                    details={
                        **details,
                        "was_properties": int(was[1]) if was else None,
                        "was_due": local(item.due_at).isoformat(),
                    },
                    **audit,
                )
            else:
                changes.unchanged += 1
            item.title, item.description, item.due_at = title, description, due_at
        due_days.append((item, earliest))
    for key, item in stored.items():
        if key not in wanted and item.status == "open":
            item.status, item.completed_at = "done", utcnow()
            item.note = f"closed: the progress report of {as_of:%d %B %Y} shows no property needing it"
            changes.closed.append(key)
            record(
                session,
                actor,
                "canvass work closed",
                subject=key,
                details={"report_date": as_of.isoformat()},
                **audit,
            )
    session.flush()  # the new items' ids, for their reminders
    for item, day in due_days:
        when = dt.datetime.combine(day, REMINDER_TIME, tzinfo=LONDON)
        row = reminders.get(item.id)
        if row is None:
            session.add(Reminder(work_item_id=item.id, label="on the day", remind_at=when))
        elif row.remind_at != when:  # the due date moved: remind again for the new one
            row.remind_at, row.sent_at = when, None
    session.flush()
    return changes


# --- deferring the revised register ---------------------------------------------------------------

# Polls that allow the revised register to be published by 1 February (EC "Delivering the annual
# canvass"; domain notes §11.1): a UK Parliamentary, principal council, mayoral, parish, GLA or PCC
# election, or a neighbourhood planning referendum, held between 1 July and 1 December.
QUALIFYING = {
    "parl": "UK Parliamentary general election",
    "parl-by": "UK Parliamentary by-election",
    "local": "principal council election",
    "la-mayor": "local authority mayoral election",
    "ca-mayor": "combined authority mayoral election",
    "gla": "Greater London Authority election",
    "pcc": "Police and Crime Commissioner election",
    "parish": "parish council election",
    "community": "community council election",
    "ref-local": "local referendum",
}
# Where the law is less clear than the list: the offer says so.
CAVEATS = {
    "ref-local": "only a neighbourhood planning referendum allows it (not a council tax or governance one)",
    "community": "the EC's list names parish elections; a Welsh community council election is taken as "
    "their equivalent: check before deciding",
}
DEFERRAL_RULE = (
    "a UK Parliamentary, principal council, mayoral, parish, GLA or PCC election, or a neighbourhood "
    'planning referendum, held between 1 July and 1 December (EC "Delivering the annual canvass"; '
    "RPA 1983 s.13)"
)


@dataclass
class QualifyingPoll:
    poll_key: str
    title: str
    poll_date: dt.date
    kinds: list[str]
    caveats: list[str]

    def to_dict(self) -> dict:
        return {
            "poll_key": self.poll_key,
            "title": self.title,
            "poll_date": self.poll_date.isoformat(),
            "kinds": self.kinds,
            "caveats": self.caveats,
        }


def qualifying_polls(session: Session, canvass: Poll) -> list[QualifyingPoll]:
    """Planned polls in the canvass's nation, in its 1 July to 1 December, of a kind that allows
    the deferral."""
    year = canvass_year(canvass)
    rows = session.execute(
        select(Poll, Election)
        .join(Election, Election.poll_id == Poll.id)
        .where(
            Poll.status == "planned",
            ~Poll.key.like("canvass.%"),
            Poll.poll_date >= dt.date(year, 7, 1),
            Poll.poll_date <= dt.date(year, 12, 1),
            Election.nation == canvass.nation,
            Election.kind.in_(list(QUALIFYING)),
        )
        .order_by(Poll.poll_date, Poll.key, Election.id)
    ).all()
    found: dict[int, QualifyingPoll] = {}
    for poll, election in rows:
        q = found.setdefault(poll.id, QualifyingPoll(poll.key, poll.title, poll.poll_date, [], []))
        if election.kind not in q.kinds:
            q.kinds.append(election.kind)
    for q in found.values():
        q.caveats = [CAVEATS[k] for k in q.kinds if k in CAVEATS]
        if any(k not in CAVEATS for k in q.kinds):
            q.caveats = []  # one kind that allows it without doubt is enough
    return list(found.values())


def deferred_to(session: Session, canvass: Poll) -> dt.date | None:
    """The revised register's date, if it has been set past 1 December."""
    value = session.scalars(
        select(DateOverride.value).where(
            DateOverride.poll_id == canvass.id, DateOverride.key == "revised_register"
        )
    ).first()
    if not value:
        return None
    day = dt.date.fromisoformat(value[:10])
    return day if day > dt.date(canvass_year(canvass), 12, 1) else None


@dataclass
class DeferralChange:
    kind: str  # offered | withdrawn | accepted | unsupported | resolved | reoffered
    canvass_key: str
    canvass_title: str
    canvass_id: int
    polls: list[dict]
    work_item_id: int | None
    audit_id: int | None
    deferred_to: str | None = None
    due: str | None = None


def review_deferral(
    session: Session, changed_key: str | None, actor: str, flow_run_id: str | None = None
) -> list[DeferralChange]:
    """After a poll is planned, moved or cancelled (or a registration year replanned): offer the
    deferral of each registration year's revised register that a poll now allows, withdraw an offer
    no poll supports any more, and flag a deferral that has lost its poll."""
    canvasses = session.scalars(
        select(Poll).where(Poll.key.like("canvass.%"), Poll.status == "planned").order_by(Poll.key)
    ).all()
    if changed_key and changed_key.startswith("canvass."):
        canvasses = [c for c in canvasses if c.key == changed_key]
    changes: list[DeferralChange] = []
    for canvass in canvasses:
        changes.extend(_review_one(session, canvass, actor, flow_run_id))
    return changes


def _item(session: Session, canvass: Poll, key: str) -> WorkItem | None:
    return session.scalars(
        select(WorkItem).where(WorkItem.poll_id == canvass.id, WorkItem.key == key)
    ).first()


ACCEPTED = "deferred:"


def _review_one(session: Session, canvass: Poll, actor: str, flow_run_id: str | None) -> list[DeferralChange]:
    polls = qualifying_polls(session, canvass)
    deferred = deferred_to(session, canvass)
    offer = _item(session, canvass, DEFERRAL_OFFER)
    unsupported = _item(session, canvass, DEFERRAL_UNSUPPORTED)
    out: list[DeferralChange] = []
    audit = dict(poll_id=canvass.id, flow_run_id=flow_run_id)
    listed = [p.to_dict() for p in polls]

    def change(kind: str, item: WorkItem | None, entry) -> None:
        session.flush()
        out.append(
            DeferralChange(
                kind,
                canvass.key,
                canvass.title,
                canvass.id,
                listed,
                item.id if item else None,
                entry.id if entry is not None else None,
                deferred.isoformat() if deferred else None,
                local(item.due_at).isoformat() if item else None,
            )
        )

    if polls and deferred is None:
        if (
            offer is None
            or offer.status == "cancelled"
            or (offer.status == "done" and (offer.note or "").startswith(ACCEPTED))
        ):
            due = session.scalars(
                select(TimetableEvent.due_at).where(
                    TimetableEvent.poll_id == canvass.id,
                    TimetableEvent.key == "revised_register.last_application",
                )
            ).first()
            title = "Decide whether to defer the revised register to 1 February"
            description = _offer_text(canvass, polls)
            if offer is None:
                owner = OwnerPicker(session).pick("electoral-registration-officer")
                offer = WorkItem(
                    poll_id=canvass.id,
                    key=DEFERRAL_OFFER,
                    title=title,
                    description=description,
                    owner_role="electoral-registration-officer",
                    owner_id=owner.id if owner else None,
                    due_at=due or _due_at(dt.date(canvass_year(canvass), 11, 1)),
                    anchor="revised_register.last_application",
                    event_key=None,
                    source=SOURCE,
                )
                session.add(offer)
                kind = "offered"
            else:
                offer.status, offer.completed_at, offer.completed_by_id, offer.note = "open", None, None, None
                offer.title, offer.description = title, description
                kind = "reoffered"
            session.flush()
            entry = record(
                session,
                actor,
                "revised register deferral offered",
                subject=DEFERRAL_OFFER,
                details={"polls": listed, "work_item_id": offer.id},
                **audit,
            )
            change(kind, offer, entry)
        elif offer.status == "open":
            description = _offer_text(canvass, polls)
            if offer.description != description:
                offer.description = description
                record(
                    session,
                    actor,
                    "revised register deferral offer updated",
                    subject=DEFERRAL_OFFER,
                    details={"polls": listed},
                    **audit,
                )
    elif not polls and deferred is None and offer is not None and offer.status == "open":
        offer.status, offer.note = "cancelled", "withdrawn: no poll in the canvass period allows it now"
        entry = record(
            session,
            actor,
            "revised register deferral offer withdrawn",
            subject=DEFERRAL_OFFER,
            details={"reason": "no qualifying poll between 1 July and 1 December"},
            **audit,
        )
        change("withdrawn", offer, entry)
    if deferred is not None and polls:
        if offer is not None and offer.status == "open":
            who = session.scalars(
                select(DateOverride.set_by).where(
                    DateOverride.poll_id == canvass.id, DateOverride.key == "revised_register"
                )
            ).first()
            person = session.scalars(select(Person).where(Person.email == (who or "").lower())).first()
            offer.status, offer.completed_at = "done", utcnow()
            offer.completed_by_id = person.id if person else None
            offer.note = (
                f"{ACCEPTED} revised register to be published by {deferred:%d %B %Y}, decided by {who}"
            )
            entry = record(
                session,
                actor,
                "revised register deferral accepted",
                subject=DEFERRAL_OFFER,
                details={"to": deferred.isoformat(), "by": who, "polls": listed},
                **audit,
            )
            change("accepted", offer, entry)
        if unsupported is not None and unsupported.status == "open":
            unsupported.status, unsupported.completed_at = "done", utcnow()
            unsupported.note = "resolved: a poll in the canvass period allows the deferral again"
            entry = record(
                session,
                actor,
                "revised register deferral supported again",
                subject=DEFERRAL_UNSUPPORTED,
                details={"polls": listed},
                **audit,
            )
            change("resolved", unsupported, entry)
    if deferred is None and unsupported is not None and unsupported.status == "open":
        unsupported.status, unsupported.completed_at = "done", utcnow()
        unsupported.note = "resolved: the revised register is no longer deferred"
        record(
            session,
            actor,
            "revised register deferral undone",
            subject=DEFERRAL_UNSUPPORTED,
            details={},
            **audit,
        )
    if deferred is not None and not polls:
        if offer is not None and offer.status == "open":
            offer.status, offer.note = "cancelled", "withdrawn: no poll in the canvass period allows it now"
        if unsupported is None or unsupported.status != "open":
            title = (
                f"The revised register is deferred to {deferred:%d %B %Y} but no poll allows it now: "
                "undo the deferral or plan the poll"
            )
            description = (
                f"No planned poll in {canvass_year(canvass)}'s canvass period (1 July to 1 December) allows "
                f"the deferral: it needs {DEFERRAL_RULE}. Undo it with `pollflow canvass undefer "
                f"{canvass.key} --by EMAIL` (the revised register is then due by 1 December)."
            )
            due = _due_at(
                min(
                    dt.date(canvass_year(canvass), 11, 15),
                    max(local(utcnow()).date(), dt.date(canvass_year(canvass), 7, 1)),
                )
            )
            if unsupported is None:
                owner = OwnerPicker(session).pick("electoral-registration-officer")
                unsupported = WorkItem(
                    poll_id=canvass.id,
                    key=DEFERRAL_UNSUPPORTED,
                    title=title,
                    description=description,
                    owner_role="electoral-registration-officer",
                    owner_id=owner.id if owner else None,
                    due_at=due,
                    anchor="revised_register",
                    source=SOURCE,
                )
                session.add(unsupported)
            else:
                unsupported.status, unsupported.completed_at, unsupported.note = "open", None, None
                unsupported.title, unsupported.description, unsupported.due_at = title, description, due
            session.flush()
            entry = record(
                session,
                actor,
                "revised register deferral no longer allowed",
                subject=DEFERRAL_UNSUPPORTED,
                details={"deferred_to": deferred.isoformat()},
                **audit,
            )
            change("unsupported", unsupported, entry)
    return out


def _offer_text(canvass: Poll, polls: list[QualifyingPoll]) -> str:
    lines = [
        f"The revised register for {canvass_year(canvass)} may be published by 1 February "
        f"{canvass_year(canvass) + 1} instead of 1 December, because of:",
    ]
    for p in polls:
        kinds = ", ".join(QUALIFYING[k] for k in p.kinds)
        lines.append(
            f"- {p.title} ({p.poll_key}; {kinds})" + (f": {'; '.join(p.caveats)}" if p.caveats else "")
        )
    lines += [
        f"The law allows it where there is {DEFERRAL_RULE}.",
        f"To defer: pollflow canvass defer {canvass.key} --by EMAIL (every dependent deadline and task "
        "moves).",
        "To publish on 1 December as planned: record this as done with a note.",
    ]
    return "\n".join(lines)


def check_deferral(
    session: Session, canvass_key: str, by: str, publish_on: dt.date | None = None
) -> tuple[Poll, Person, dt.date, list[QualifyingPoll]]:
    """What the ERO's decision needs before anything runs: a registration year, an ERO, a poll
    that allows it, and a date the law allows."""
    from store.people import find_person, roles_of

    canvass = find_canvass(session, canvass_key)
    person = find_person(session, by)
    if "electoral-registration-officer" not in roles_of(session, person):
        raise CanvassError(
            f"{person.email} is not an electoral registration officer: the ERO decides whether to defer "
            "the revised register"
        )
    year = canvass_year(canvass)
    day = publish_on or dt.date(year + 1, 2, 1)
    if not (dt.date(year, 12, 2) <= day <= dt.date(year + 1, 2, 1)):
        raise CanvassError(
            f"--publish-on {day.isoformat()}: a deferred revised register is published after 1 December "
            f"{year} and by 1 February {year + 1}"
        )
    polls = qualifying_polls(session, canvass)
    if not polls:
        raise CanvassError(
            f"no planned poll allows deferring {canvass.key}'s revised register: the law allows it only "
            f"where there is {DEFERRAL_RULE}; plan the poll first"
        )
    return canvass, person, day, polls


def check_undeferral(session: Session, canvass_key: str, by: str) -> tuple[Poll, Person, dt.date]:
    from store.people import find_person, roles_of

    canvass = find_canvass(session, canvass_key)
    person = find_person(session, by)
    if "electoral-registration-officer" not in roles_of(session, person):
        raise CanvassError(
            f"{person.email} is not an electoral registration officer: the ERO decides the revised "
            "register's date"
        )
    deferred = deferred_to(session, canvass)
    if deferred is None:
        raise CanvassError(f"{canvass.key}'s revised register is not deferred: it is due by 1 December")
    return canvass, person, deferred


def record_decision(
    session: Session,
    canvass_key: str,
    by: str,
    action: str,
    details: dict,
    flow_run_id: str | None = None,
) -> None:
    canvass = find_canvass(session, canvass_key)
    record(
        session,
        by,
        action,
        poll_id=canvass.id,
        subject="revised_register",
        details=details,
        flow_run_id=flow_run_id,
    )


def count_properties(session: Session, poll: Poll) -> int:
    return session.scalar(
        select(func.count()).select_from(CanvassProperty).where(CanvassProperty.poll_id == poll.id)
    )


def groups_by_need(
    groups: dict[tuple[str, str], Group], need: str | None, district: str | None
) -> list[Group]:
    return [
        g
        for (n, d), g in sorted(groups.items())
        if (need is None or n == need) and (district is None or d == district)
    ]


def districts_of(groups: dict) -> list[str]:
    return sorted({d for _, d in groups})
