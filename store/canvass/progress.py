"""The EMS's property-level canvass progress report (CSV), read and checked: the columns and the
header spellings each is known by, the words for routes and response statuses, and one ``Prop`` per
property. A file with any bad line is refused whole, naming every bad line (``CanvassFileError``).

It reads the file only (no database, no timetable); the format is in docs/canvass-progress.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from store.canvass import CanvassError
from store.tables import shown
from timetables.clock import LONDON

ROUTES = {1: "Route 1 (matched)", 2: "Route 2 (unmatched)", 3: "Route 3 (defined)"}
STATUSES = ("outstanding", "responded", "no_change", "changes", "empty")
RESPONDED = frozenset(STATUSES[1:])
SHOWN_PROBLEMS = 5
SHOWN_RANGES = 100  # line ranges named in the one-line error; `pollflow canvass check` lists all


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


_shown = partial(shown, limit=40)  # a value from the file, quoted in an error


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
