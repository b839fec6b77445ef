"""Importing polling stations (from the EMS exports councils have) and the staff register.

Every row is checked and every bad row reported with its line (a spreadsheet's row) and why.
Nothing is written unless the whole file is good, or the user asks to skip bad rows, and is then
told each row that was skipped. Values that must never be printed (bank details, National
Insurance numbers) are never quoted in a message: the message names the column only.

Formats of station files (the column lists Democracy Club's importers read; domain notes §4.5):

- ``xpress``: Civica Xpress "DemocracyClub" CSV, one row per property: Polling_Place_Id,
  Polling_Place_Name, Polling_Place_Address_1-4, Polling_Place_Postcode,
  Polling_Place_Easting/Northing, Polling_Place_UPRN, Polling_Place_District_Reference,
  ElectoralArea, Property_URN, AddressLine1-6, Post_Code.
- ``eros``: Idox Eros (formerly Halarose) CSV, one row per property: PollingStationNumber,
  PollingStationName, PollingStationAddress1-5, PollingStationPostCode, PollingVenueID,
  PollingVenueUPRN, PollingVenueEasting/Northing, PollingDistrictId, PollingDistrictName,
  HouseID, UPRN, AddressLine1-5, Postcode.
- ``democracy-counts``: Democracy Counts stations CSV, one row per station: StationCode,
  PlaceName, Add1-6, PostCode, Xordinate, Yordinate.
- ``pollflow``: pollflow's own layout, CSV or Excel, one row per station: code, name, postcode,
  electorate (required); place, address, district, district_name, area, inspector_group,
  postal_voters, easting, northing, uprn.

The EMS exports as Democracy Club describes them carry no elector counts. pollflow reads an
optional electors column in any format (Electorate, Electors, ElectorCount, NumberOfElectors; in
a per-property file, the electors at that property, summed per station) and PostalVoters the same
way; a station still without an electorate is reported, and ``pollflow stations electorate FILE``
sets electorates from the EMS's electorate-by-district report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from store.audit import record
from store.models import utcnow
from store.staff_crypto import encrypt_sensitive, read_sensitive
from store.staff_models import STAFF_ROLES, PollingDistrict, PollingPlace, PollingStation, StaffMember
from timetables.errors import PollflowError

FORMATS = ("xpress", "eros", "democracy-counts", "pollflow")
SHOWN = 5
POSTCODE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]? ?[0-9][ABD-HJLNP-UW-Z]{2})$")
BFPO = re.compile(r"^BFPO ?[0-9]{1,4}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")
NI_NUMBER = re.compile(r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")
ELECTORS = ("electorate", "electors", "electorcount", "numberofelectors", "noofelectors")
POSTALS = ("postalvoters", "postalelectors", "postals")


class ImportRefused(PollflowError):
    """A file refused whole: every bad row named by its line and reason."""

    def __init__(self, path: str, problems: list[Problem]):
        self.problems = problems
        lines = sorted({p.line for p in problems})
        shown = "; ".join(str(p) for p in problems[:SHOWN])
        if len(problems) > SHOWN:
            shown += f"; and {len(problems) - SHOWN} more (bad lines: {_ranges(lines)})"
        super().__init__(
            f"{path}: nothing imported: {len(lines)} bad row(s): {shown} "
            "(fix them, or import the good rows with --skip-bad-rows)"
        )


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str
    row_word: str = "line"

    def __str__(self) -> str:
        return f"{self.row_word} {self.line}: {self.reason}"


def _ranges(numbers: list[int]) -> str:
    """'2-4, 9' for [2, 3, 4, 9]."""
    out: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(out)


def _shown(text: str, limit: int = 50) -> str:
    flat = re.sub(r"\s+", " ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def normalise_header(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(text or "")).lower()


def normalise_postcode(text: str) -> str | None:
    """'ox71aa' -> 'OX7 1AA'; None if blank; ValueError if not a UK postcode."""
    flat = re.sub(r"\s+", "", str(text or "")).upper()
    if not flat:
        return None
    if BFPO.match(flat):
        return "BFPO " + flat[4:]
    if not POSTCODE.match(flat):
        raise ValueError(f"'{_shown(text)}' is not a UK postcode")
    return f"{flat[:-3]} {flat[-3:]}"


# --- reading files ------------------------------------------------------------------------------


@dataclass
class Table:
    path: Path
    headers: list[str]  # normalised
    rows: list[tuple[int, dict[str, str]]]  # (line or row number, normalised header -> value)
    row_word: str = "line"


KNOWN_HEADERS: set[str] = set()  # every column any layout names, to find the header row


def _is_header(values: list[str]) -> bool:
    return sum(normalise_header(v) in KNOWN_HEADERS for v in values) >= 2


def read_table(path: str | Path, sheet: str | None = None) -> Table:
    """A CSV (comma, tab or semicolon; UTF-8, else Windows-1252 as EMS exports often are) or the
    first sheet of an .xlsx workbook. The header is the first line naming known columns (a
    spreadsheet may have a title above it), else the first line that is not blank."""
    path = Path(path)
    if not path.exists():
        raise PollflowError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if path.suffix.lower() == ".xls":
        raise PollflowError(f"{path}: old Excel (.xls) files cannot be read: save it as .xlsx or CSV")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PollflowError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    if not text.strip():
        raise PollflowError(f"{path}: the file is empty: give a header line and one line per row")
    first = next(line for line in text.splitlines() if line.strip())
    delimiter = max(",\t;|", key=first.count)
    try:
        return _read_csv(path, text, delimiter)
    except csv.Error as exc:
        raise PollflowError(f"{path}: not a readable CSV file: {exc}") from exc


def _read_csv(path: Path, text: str, delimiter: str) -> Table:
    header = _find_header(list(csv.reader(io.StringIO(text), delimiter=delimiter))[:20])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for fields in reader:
        if fields == header:
            break
    headers = [normalise_header(h) for h in header]
    _check_headers(path, header, headers)
    rows = []
    start = reader.line_num + 1
    for fields in reader:
        n, start = start, reader.line_num + 1
        if not any(f.strip() for f in fields):
            continue
        row = {h: v.strip() for h, v in zip(headers, fields, strict=False) if h}
        if len(fields) > len(headers) and any(f.strip() for f in fields[len(headers) :]):
            row["__extra__"] = f"{len(fields)} fields but {len(headers)} columns"
        rows.append((n, row))
    return Table(path, headers, rows)


def _read_xlsx(path: Path, sheet: str | None) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise PollflowError(f"{path}: not a readable Excel workbook ({type(exc).__name__})") from exc
    try:
        if sheet and sheet not in book.sheetnames:
            raise PollflowError(f"{path}: no sheet '{sheet}': sheets are {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet else book.worksheets[0]
        top = [
            ["" if v is None else str(v) for v in values]
            for values in ws.iter_rows(max_row=20, values_only=True)
        ]
        header = _find_header(top)
        rows_iter = ws.iter_rows(values_only=True)
        n = 0
        for values in rows_iter:
            n += 1
            if ["" if v is None else str(v) for v in values] == header:
                break
        headers = [normalise_header(h) for h in header]
        _check_headers(path, header, headers)
        rows = []
        for values in rows_iter:
            n += 1
            cells = [_cell(v) for v in values]
            if not any(cells):
                continue
            rows.append((n, {h: v for h, v in zip(headers, cells, strict=False) if h}))
        return Table(path, headers, rows, row_word="row")
    finally:
        book.close()


def _find_header(rows: list[list[str]]) -> list[str]:
    filled = [r for r in rows if any(str(v).strip() for v in r)]
    return next((r for r in filled if _is_header(r)), filled[0] if filled else [])


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value).strip()


def _check_headers(path: Path, raw: list[str], headers: list[str]) -> None:
    if not any(headers):
        raise PollflowError(f"{path}: no header line: the first line must name the columns")
    repeated = sorted({raw[i].strip() for i, h in enumerate(headers) if h and headers.count(h) > 1})
    if repeated:
        raise PollflowError(f"{path}: column(s) {', '.join(repeated)} given twice")


# --- stations -----------------------------------------------------------------------------------


@dataclass
class StationRecord:
    line: int
    code: str
    name: str
    address: str = ""
    postcode: str | None = None
    easting: float | None = None
    northing: float | None = None
    uprn: str | None = None
    place_ref: str | None = None
    place_name: str | None = None
    area: str | None = None
    inspector_group: str | None = None
    districts: dict[str, str] = field(default_factory=dict)  # ref -> name
    district_electors: dict[str, int] = field(default_factory=dict)
    electorate: int | None = None
    postal_voters: int | None = None
    properties: int | None = None

    def identity(self) -> tuple:
        """What must agree between two rows naming the same station."""
        return (self.name, self.postcode, self.address, self.easting, self.northing)


@dataclass
class StationFile:
    path: Path
    format: str
    rows: int
    stations: list[StationRecord]
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


FORMAT_COLUMNS = {
    "xpress": ("pollingplaceid", "pollingplacename", "pollingplacedistrictreference", "pollingplacepostcode"),
    "eros": (
        "pollingstationnumber",
        "pollingstationname",
        "pollingvenueid",
        "pollingstationpostcode",
        "pollingdistrictid",
    ),
    "democracy-counts": ("stationcode", "placename", "postcode"),
    "pollflow": ("code", "name", "postcode", "electorate"),
}
RAW_COLUMNS = {
    "xpress": (
        "Polling_Place_Id, Polling_Place_Name, Polling_Place_District_Reference, Polling_Place_Postcode"
    ),
    "eros": (
        "PollingStationNumber, PollingStationName, PollingVenueID, PollingStationPostCode, PollingDistrictId"
    ),
    "democracy-counts": "StationCode, PlaceName, PostCode",
    "pollflow": "code, name, postcode, electorate",
}


KNOWN_HEADERS.update(c for cols in FORMAT_COLUMNS.values() for c in cols)
KNOWN_HEADERS.update(("station", "stationcode", "district", "pollingdistrict") + ELECTORS + POSTALS)


def detect_format(table: Table) -> str:
    have = set(table.headers)
    for name, columns in FORMAT_COLUMNS.items():
        if set(columns) <= have:
            return name
    raise PollflowError(
        f"{table.path}: cannot tell which system exported this file: give --format "
        f"({', '.join(FORMATS)}); each needs the columns "
        + "; ".join(f"{name}: {cols}" for name, cols in RAW_COLUMNS.items())
    )


def read_stations(
    path: str | Path, format: str | None = None, skip_bad_rows: bool = False, max_electors: int = 2250
) -> StationFile:
    """Every row checked; any problem refuses the whole file (unless skip_bad_rows)."""
    if format is not None and format not in FORMATS:
        raise PollflowError(f"unknown format '{format}': formats are {', '.join(FORMATS)}")
    table = read_table(path)
    format = format or detect_format(table)
    missing = [c for c in FORMAT_COLUMNS[format] if c not in table.headers]
    if missing:
        raise PollflowError(
            f"{table.path}: not a {format} file: missing column(s) "
            f"{', '.join(missing)}: a {format} file has {RAW_COLUMNS[format]}"
        )
    if not table.rows:
        raise PollflowError(f"{table.path}: no rows, only the header line")
    per_property = format in ("xpress", "eros")
    problems: list[Problem] = []
    stations: dict[str, StationRecord] = {}
    reader = _ROW_READERS[format]
    has_electors = any(c in table.headers for c in ELECTORS)
    for line, row in table.rows:
        found: list[str] = []
        if "__extra__" in row:
            found.append(row["__extra__"])
        record = reader(line, row, found)
        if record is not None and not found:
            seen = stations.get(record.code)
            if seen is None:
                stations[record.code] = record
            elif not per_property:
                found.append(f"station {record.code} is also on line {seen.line}: give each station once")
            elif seen.identity() != record.identity():
                found.append(_conflict(record, seen))
            else:
                _merge_property(seen, record)
        if found:
            problems.extend(Problem(line, reason, table.row_word) for reason in found)
    if problems and not skip_bad_rows:
        raise ImportRefused(str(table.path), problems)
    if not stations:
        raise PollflowError(f"{table.path}: no good rows: nothing to import ({len(problems)} bad)")
    warnings = _station_warnings(stations.values(), per_property, has_electors, max_electors)
    if problems and per_property and has_electors:
        warnings.append(
            f"the electors of the {len({p.line for p in problems})} skipped property row(s) are not counted: "
            "the stations' electorates are short by that much until the file is fixed"
        )
    return StationFile(Path(path), format, len(table.rows), list(stations.values()), problems, warnings)


def _conflict(record: StationRecord, seen: StationRecord) -> str:
    names = ("name", "postcode", "address", "easting", "northing")
    for name, a, b in zip(names, record.identity(), seen.identity(), strict=True):
        if a != b:
            return (
                f"station {record.code} is also on line {seen.line} with a different {name} "
                f"('{_shown(b or '')}' there, '{_shown(a or '')}' here): one id, one station"
            )
    return f"station {record.code} differs from line {seen.line}"


def _merge_property(seen: StationRecord, record: StationRecord) -> None:
    seen.properties = (seen.properties or 0) + (record.properties or 0)
    for attr in ("electorate", "postal_voters"):
        value = getattr(record, attr)
        if value is not None:
            setattr(seen, attr, (getattr(seen, attr) or 0) + value)
    for ref, name in record.districts.items():
        seen.districts.setdefault(ref, name)
    for ref, n in record.district_electors.items():
        seen.district_electors[ref] = seen.district_electors.get(ref, 0) + n
    if record.area and not seen.area:
        seen.area = record.area


def _station_warnings(stations, per_property: bool, has_electors: bool, max_electors: int) -> list[str]:
    warnings = []
    unknown = sorted(s.code for s in stations if s.electorate is None)
    if unknown:
        why = "the file has no electors column" if not has_electors else "no electors given"
        warnings.append(
            f"{len(unknown)} station(s) have no electorate ({why}): {', '.join(unknown[:10])}"
            f"{' ...' if len(unknown) > 10 else ''}: set them with `pollflow stations electorate FILE`"
        )
    for s in stations:
        if s.electorate is not None and s.electorate > max_electors:
            warnings.append(
                f"station {s.code} ({s.name}) has {s.electorate:,} electors: the Electoral Commission "
                f"recommends no more than {max_electors:,} at one station (split it, or review the scheme)"
            )
        if s.postcode is None and s.easting is None:
            warnings.append(f"station {s.code} ({s.name}) has neither a postcode nor a grid reference")
    return warnings


def _get(row: dict[str, str], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value:
            return value
    return ""


def _number(row: dict[str, str], names: tuple[str, ...], label: str, found: list[str]) -> int | None:
    text = _get(row, *names).replace(",", "")
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            found.append(f"{label} '{_shown(text)}' is not a number")
            return None
        if not as_float.is_integer():
            found.append(f"{label} '{_shown(text)}' is not a whole number")
            return None
        value = int(as_float)
    if value < 0:
        found.append(f"{label} {value} is negative")
        return None
    return value


def _grid(row: dict[str, str], e_col: str, n_col: str, found: list[str]) -> tuple[float | None, float | None]:
    """Easting and northing in metres (British or Irish National Grid); 0 or blank: not given."""
    values = []
    for col, label, top in ((e_col, "easting", 800_000), (n_col, "northing", 1_300_000)):
        text = row.get(col, "").replace(",", "")
        if not text:
            values.append(None)
            continue
        try:
            value = float(text)
        except ValueError:
            found.append(f"{label} '{_shown(text)}' is not a number")
            values.append(None)
            continue
        if value == 0:
            values.append(None)
        elif not 0 < value < top:
            found.append(f"{label} {text} is outside the National Grid (0 to {top:,} m)")
            values.append(None)
        else:
            values.append(value)
    if (values[0] is None) != (values[1] is None):
        found.append("give both easting and northing, or neither")
        return None, None
    return values[0], values[1]


def _postcode(text: str, label: str, found: list[str], required: bool = False) -> str | None:
    try:
        value = normalise_postcode(text)
    except ValueError as exc:
        found.append(f"{label}: {exc}")
        return None
    if value is None and required:
        found.append(f"no {label}")
    return value


def _address(*parts: str) -> str:
    return ", ".join(p.strip() for p in parts if p and p.strip())


def _xpress(line: int, row: dict[str, str], found: list[str]) -> StationRecord | None:
    code = row.get("pollingplaceid", "")
    name = row.get("pollingplacename", "")
    if not code:
        found.append("no Polling_Place_Id")
    if not name:
        found.append("no Polling_Place_Name")
    district = row.get("pollingplacedistrictreference", "")
    if not district:
        found.append("no Polling_Place_District_Reference")
    postcode = _postcode(row.get("pollingplacepostcode", ""), "Polling_Place_Postcode", found)
    _postcode(_get(row, "postcode"), "property Post_Code", found)
    easting, northing = _grid(row, "pollingplaceeasting", "pollingplacenorthing", found)
    electors = _number(row, ELECTORS, "electors", found)
    postals = _number(row, POSTALS, "postal voters", found)
    return StationRecord(
        line=line,
        code=code,
        name=name,
        address=_address(*(row.get(f"pollingplaceaddress{i}", "") for i in range(1, 5))),
        postcode=postcode,
        easting=easting,
        northing=northing,
        uprn=row.get("pollingplaceuprn") or None,
        place_ref=code,
        place_name=name,
        area=row.get("electoralarea") or None,
        districts={district: ""} if district else {},
        district_electors={district: electors} if district and electors is not None else {},
        electorate=electors,
        postal_voters=postals,
        properties=1,
    )


def _eros(line: int, row: dict[str, str], found: list[str]) -> StationRecord | None:
    number = row.get("pollingstationnumber", "")
    name = row.get("pollingstationname", "")
    venue = row.get("pollingvenueid", "")
    if not number:
        found.append("no PollingStationNumber")
    elif number.lower() == "n/a":
        found.append("PollingStationNumber is n/a: the property has no station")
    if not name:
        found.append("no PollingStationName")
    if not venue:
        found.append("no PollingVenueID")
    district = row.get("pollingdistrictid", "")
    if not district:
        found.append("no PollingDistrictId")
    postcode = _postcode(row.get("pollingstationpostcode", ""), "PollingStationPostCode", found)
    _postcode(row.get("postcode", ""), "property Postcode", found)
    easting, northing = _grid(row, "pollingvenueeasting", "pollingvenuenorthing", found)
    electors = _number(row, ELECTORS, "electors", found)
    postals = _number(row, POSTALS, "postal voters", found)
    return StationRecord(
        line=line,
        code=number,
        name=name,
        address=_address(*(row.get(f"pollingstationaddress{i}", "") for i in range(1, 6))),
        postcode=postcode,
        easting=easting,
        northing=northing,
        uprn=row.get("pollingvenueuprn") or None,
        place_ref=venue,
        place_name=name,
        area=row.get("ward") or row.get("electoralarea") or None,
        districts={district: row.get("pollingdistrictname", "")} if district else {},
        district_electors={district: electors} if district and electors is not None else {},
        electorate=electors,
        postal_voters=postals,
        properties=1,
    )


def _democracy_counts(line: int, row: dict[str, str], found: list[str]) -> StationRecord | None:
    code = row.get("stationcode", "")
    name = row.get("placename", "")
    if not code:
        found.append("no StationCode")
    if not name:
        found.append("no PlaceName")
    postcode = _postcode(row.get("postcode", ""), "PostCode", found)
    easting, northing = _grid(row, "xordinate", "yordinate", found)
    district = _get(row, "pollingdistrict", "district", "pollingdistrictcode")
    return StationRecord(
        line=line,
        code=code,
        name=name,
        address=_address(*(row.get(f"add{i}", "") for i in range(1, 7))),
        postcode=postcode,
        easting=easting,
        northing=northing,
        uprn=_get(row, "uprn", "placeuprn") or None,
        place_ref=_get(row, "placecode", "placeid") or code,
        place_name=name,
        area=_get(row, "ward", "electoralarea") or None,
        districts={district: ""} if district else {},
        electorate=_number(row, ELECTORS, "electorate", found),
        postal_voters=_number(row, POSTALS, "postal voters", found),
    )


def _pollflow(line: int, row: dict[str, str], found: list[str]) -> StationRecord | None:
    code, name = row.get("code", ""), row.get("name", "")
    if not code:
        found.append("no code")
    if not name:
        found.append("no name")
    postcode = _postcode(row.get("postcode", ""), "postcode", found, required=True)
    electorate = _number(row, ("electorate",), "electorate", found)
    if electorate is None and not row.get("electorate"):
        found.append("no electorate")
    easting, northing = _grid(row, "easting", "northing", found)
    district = row.get("district", "")
    group = row.get("inspectorgroup", "")
    return StationRecord(
        line=line,
        code=code,
        name=name,
        address=row.get("address", ""),
        postcode=postcode,
        easting=easting,
        northing=northing,
        uprn=row.get("uprn") or None,
        place_ref=row.get("place") or code,
        place_name=row.get("place") or name,
        area=row.get("area") or None,
        inspector_group=group or None,
        districts={d.strip(): row.get("districtname", "") for d in re.split(r"[;|]", district) if d.strip()},
        electorate=electorate,
        postal_voters=_number(row, ("postalvoters",), "postal_voters", found),
    )


_ROW_READERS = {
    "xpress": _xpress,
    "eros": _eros,
    "democracy-counts": _democracy_counts,
    "pollflow": _pollflow,
}


@dataclass
class SaveResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    deactivated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deactivated)


def save_stations(session: Session, parsed: StationFile, actor: str, replace: bool = False) -> SaveResult:
    """Add or update stations (and their places and districts) by code; running the same file
    twice changes nothing. ``replace``: stations not in the file are made inactive."""
    result = SaveResult()
    now = utcnow()
    places = {p.ref: p for p in session.exec(select(PollingPlace)).all()}
    stations = {s.code: s for s in session.exec(select(PollingStation)).all()}
    districts = {d.ref: d for d in session.exec(select(PollingDistrict)).all()}
    source = f"{parsed.format}:{parsed.path.name}"
    for rec in parsed.stations:
        place = places.get(rec.place_ref or rec.code)
        place_values = dict(
            name=rec.place_name or rec.name,
            address=rec.address,
            postcode=rec.postcode,
            easting=rec.easting,
            northing=rec.northing,
            uprn=rec.uprn,
        )
        if place is None:
            place = PollingPlace(ref=rec.place_ref or rec.code, **place_values)
            session.add(place)
            session.flush()
            places[place.ref] = place
        elif _differs(place, place_values):
            _assign(place, place_values, now)
        station = stations.get(rec.code)
        values = dict(
            name=rec.name,
            place_id=place.id,
            address=rec.address,
            postcode=rec.postcode,
            easting=rec.easting,
            northing=rec.northing,
            uprn=rec.uprn,
            area=rec.area,
            districts=", ".join(sorted(rec.districts)),
            inspector_group=rec.inspector_group,
            postal_voters=rec.postal_voters,
            properties=rec.properties,
            active=True,
        )
        # An address-level file without electors keeps an electorate set earlier (from the
        # EMS's electorate report), rather than forgetting it.
        if rec.electorate is not None or station is None:
            values["electorate"] = rec.electorate
        if station is None:
            station = PollingStation(code=rec.code, source=source, **values)
            session.add(station)
            session.flush()
            stations[rec.code] = station
            result.added.append(rec.code)
        elif _differs(station, values):
            _assign(station, {**values, "source": source}, now)
            result.updated.append(rec.code)
        else:
            result.unchanged += 1
        for ref, name in rec.districts.items():
            district = districts.get(ref)
            d_values = dict(name=name or "", station_id=station.id, electorate=rec.district_electors.get(ref))
            if district is None:
                district = PollingDistrict(ref=ref, **d_values)
                session.add(district)
                districts[ref] = district
            elif _differs(district, d_values):
                _assign(district, d_values, now)
    if replace:
        given = {rec.code for rec in parsed.stations}
        for code, station in stations.items():
            if code not in given and station.active:
                station.active, station.updated_at = False, now
                result.deactivated.append(code)
    if result.changed:
        record(
            session,
            actor,
            "stations imported",
            subject=source,
            details={
                "format": parsed.format,
                "added": result.added,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "deactivated": result.deactivated,
                "skipped_rows": [p.line for p in parsed.skipped],
            },
        )
    return result


def _differs(row, values: dict) -> bool:
    return any(getattr(row, k) != v for k, v in values.items())


def _assign(row, values: dict, now: dt.datetime) -> None:
    for k, v in values.items():
        setattr(row, k, v)
    row.updated_at = now


@dataclass
class ElectorateFile:
    path: Path
    by_station: dict[str, tuple[int, int | None]]  # code -> (electorate, postal voters)
    skipped: list[Problem] = field(default_factory=list)


def read_electorates(session: Session, path: str | Path, skip_bad_rows: bool = False) -> ElectorateFile:
    """Electorates by station code or polling district reference (the EMS's electorate report):
    columns station (or district) and electorate, optionally postal_voters. District figures
    are added up per station."""
    table = read_table(path)
    key_col = next((c for c in ("station", "stationcode", "code") if c in table.headers), None)
    district_col = next(
        (c for c in ("district", "pollingdistrict", "districtref") if c in table.headers), None
    )
    if (key_col is None and district_col is None) or not any(c in table.headers for c in ELECTORS):
        raise PollflowError(
            f"{table.path}: the columns are station (or district) and electorate, optionally postal_voters"
        )
    stations = {s.code: s for s in session.exec(select(PollingStation)).all()}
    districts = {d.ref: d for d in session.exec(select(PollingDistrict)).all()}
    by_id = {s.id: s for s in stations.values()}
    problems: list[Problem] = []
    totals: dict[str, list[int | None]] = {}
    seen: dict[str, int] = {}
    for line, row in table.rows:
        found: list[str] = []
        code = row.get(key_col, "") if key_col else ""
        ref = row.get(district_col, "") if district_col else ""
        station = stations.get(code) if code else None
        if code and station is None:
            found.append(f"no station '{_shown(code)}' (import the stations first)")
        elif not code:
            district = districts.get(ref)
            if not ref:
                found.append("no station or district given")
            elif district is None or district.station_id not in by_id:
                found.append(
                    f"no polling district '{_shown(ref)}' with a station (import the stations first)"
                )
            else:
                station = by_id[district.station_id]
        electorate = _number(row, ELECTORS, "electorate", found)
        if electorate is None and not found:
            found.append("no electorate")
        postals = _number(row, POSTALS, "postal voters", found)
        ident = code or ref
        if ident in seen and not found:
            found.append(f"'{_shown(ident)}' is also on line {seen[ident]}: give each once")
        if found:
            problems.extend(Problem(line, r, table.row_word) for r in found)
            continue
        seen[ident] = line
        total = totals.setdefault(station.code, [0, None])
        total[0] += electorate
        if postals is not None:
            total[1] = (total[1] or 0) + postals
    if problems and not skip_bad_rows:
        raise ImportRefused(str(table.path), problems)
    return ElectorateFile(Path(path), {k: (v[0], v[1]) for k, v in totals.items()}, problems)


def save_electorates(session: Session, parsed: ElectorateFile, actor: str) -> list[str]:
    changed = []
    now = utcnow()
    for station in session.exec(select(PollingStation)).all():
        if station.code in parsed.by_station:
            electorate, postals = parsed.by_station[station.code]
            values = {"electorate": electorate}
            if postals is not None:
                values["postal_voters"] = postals
            if _differs(station, values):
                _assign(station, values, now)
                changed.append(station.code)
    if changed:
        record(session, actor, "electorates set", subject=parsed.path.name, details={"stations": changed})
    return changed


# --- the staff register -------------------------------------------------------------------------

STAFF_COLUMNS = (
    "name",
    "email",
    "phone",
    "roles",
    "address",
    "postcode",
    "easting",
    "northing",
    "experience",
    "performance",
    "notes",
    "preferred_area",
    "preferred_stations",
    "preferred_colleagues",
    "payroll_ref",
    "active",
    "ni_number",
    "sort_code",
    "account_number",
    "account_name",
)
STAFF_REQUIRED = ("name", "email", "roles")
SENSITIVE = ("ni_number", "sort_code", "account_number", "account_name")
ROLE_ALIASES = {
    "po": "presiding-officer",
    "presiding": "presiding-officer",
    "pc": "poll-clerk",
    "clerk": "poll-clerk",
    "pollclerk": "poll-clerk",
    "inspector": "polling-station-inspector",
    "psi": "polling-station-inspector",
    "postal-opener": "postal-vote-opener",
    "postal-votes-opener": "postal-vote-opener",
    "opener": "postal-vote-opener",
    "count": "count-assistant",
    "counter": "count-assistant",
    "count-staff": "count-assistant",
    "supervisor": "count-supervisor",
}
KNOWN_HEADERS.update(normalise_header(c) for c in STAFF_COLUMNS)
PERFORMANCE = ("", "good", "concern")
TRUE = ("yes", "y", "true", "1", "active")
FALSE = ("no", "n", "false", "0", "inactive", "left")


def parse_staff_roles(text: str) -> tuple[list[str], list[str]]:
    """('Presiding Officer; PC') -> (['presiding-officer', 'poll-clerk'], unknown)."""
    roles, unknown = [], []
    for part in re.split(r"[;|,/]", text or ""):
        name = re.sub(r"[\s_]+", "-", part.strip().lower())
        if not name:
            continue
        name = ROLE_ALIASES.get(name, ROLE_ALIASES.get(name.replace("-", ""), name))
        (roles if name in STAFF_ROLES else unknown).append(name if name in STAFF_ROLES else part.strip())
    return list(dict.fromkeys(roles)), unknown


def parse_experience(text: str, found: list[str]) -> dict[str, int]:
    """'presiding-officer:4; poll-clerk:2' (polls worked in each role), or a number of polls."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.isdigit():
        return {"any": int(text)}
    out: dict[str, int] = {}
    for part in re.split(r"[;|,]", text):
        if not part.strip():
            continue
        role_text, sep, count = part.rpartition(":")
        roles, unknown = parse_staff_roles(role_text)
        if not sep or not count.strip().isdigit() or unknown or len(roles) != 1:
            found.append(
                f"experience '{_shown(part)}' is not ROLE:POLLS (e.g. presiding-officer:4; poll-clerk:2)"
            )
            continue
        out[roles[0]] = out.get(roles[0], 0) + int(count.strip())
    return out


@dataclass
class StaffRecord:
    line: int
    values: dict
    sensitive: dict[str, str]  # only what the row gave


@dataclass
class StaffFile:
    path: Path
    rows: int
    records: list[StaffRecord]
    skipped: list[Problem] = field(default_factory=list)
    has_active: bool = False


def read_staff(path: str | Path, skip_bad_rows: bool = False) -> StaffFile:
    table = read_table(path)
    aliases = {normalise_header(c): c for c in STAFF_COLUMNS}
    missing = [c for c in STAFF_REQUIRED if normalise_header(c) not in table.headers]
    allowed = f"the columns are {', '.join(STAFF_COLUMNS)} (name, email and roles required)"
    if missing:
        raise PollflowError(f"{table.path}: missing column(s) {', '.join(missing)}: {allowed}")
    unknown = [h for h in table.headers if h and h not in aliases]
    if unknown:
        raise PollflowError(f"{table.path}: unknown column(s) {', '.join(unknown)}: {allowed}")
    if not table.rows:
        raise PollflowError(f"{table.path}: no people in the file, only the header line")
    problems: list[Problem] = []
    records: list[StaffRecord] = []
    seen: dict[str, int] = {}
    for line, raw in table.rows:
        row = {aliases[h]: v for h, v in raw.items() if h in aliases}
        found: list[str] = []
        if "__extra__" in raw:
            found.append(raw["__extra__"])
        values = _staff_values(row, found)
        email = values.get("email", "")
        if email and email in seen:
            found.append(f"{email} is also on line {seen[email]}: give each person once")
        sensitive = _sensitive_values(row, found)
        if found:
            problems.extend(Problem(line, r, table.row_word) for r in found)
            continue
        seen[email] = line
        records.append(StaffRecord(line, values, sensitive))
    if problems and not skip_bad_rows:
        raise ImportRefused(str(table.path), problems)
    if not records:
        raise PollflowError(f"{table.path}: no good rows: nothing to import ({len(problems)} bad)")
    return StaffFile(Path(path), len(table.rows), records, problems, "active" in table.headers)


def _staff_values(row: dict[str, str], found: list[str]) -> dict:
    name = row.get("name", "")
    email = row.get("email", "").lower()
    if not name:
        found.append("no name")
    if not EMAIL.match(email):
        found.append(f"'{_shown(email) or '(empty)'}' is not a valid email address")
    phone = row.get("phone") or None
    if phone and not (PHONE.match(phone) and 7 <= sum(c.isdigit() for c in phone) <= 15):
        found.append(f"phone '{_shown(phone)}' is not a phone number")
    roles, unknown = parse_staff_roles(row.get("roles", ""))
    if unknown:
        found.append(f"unknown role(s) {', '.join(map(_shown, unknown))}: roles are {', '.join(STAFF_ROLES)}")
    elif not roles:
        found.append(f"no roles: roles are {', '.join(STAFF_ROLES)}")
    postcode = _postcode(row.get("postcode", ""), "postcode", found)
    easting, northing = _grid(row, "easting", "northing", found)
    performance = row.get("performance", "").lower()
    if performance not in PERFORMANCE:
        found.append(f"performance '{_shown(performance)}' is not one of good, concern (or empty)")
    active_text = row.get("active", "").lower()
    if active_text and active_text not in TRUE + FALSE:
        found.append(f"active '{_shown(active_text)}' is not yes or no")
    colleagues = [
        c.strip().lower() for c in re.split(r"[;|,]", row.get("preferred_colleagues", "")) if c.strip()
    ]
    bad_colleagues = [c for c in colleagues if not EMAIL.match(c)]
    if bad_colleagues:
        found.append(f"preferred_colleagues: '{_shown(bad_colleagues[0])}' is not an email address")
    if email in colleagues:
        found.append("preferred_colleagues names the person themselves")
    return dict(
        email=email,
        name=name,
        phone=phone,
        address=row.get("address", ""),
        postcode=postcode,
        easting=easting,
        northing=northing,
        roles=roles,
        experience=parse_experience(row.get("experience", ""), found),
        performance=performance,
        notes=row.get("notes", ""),
        preferred_area=row.get("preferred_area") or None,
        preferred_stations=[
            s.strip() for s in re.split(r"[;|,]", row.get("preferred_stations", "")) if s.strip()
        ],
        preferred_colleagues=colleagues,
        payroll_ref=row.get("payroll_ref") or None,
        active=active_text not in FALSE,
    )


def _sensitive_values(row: dict[str, str], found: list[str]) -> dict[str, str]:
    """Bank details and NI number, checked without ever quoting them."""
    out: dict[str, str] = {}
    ni = re.sub(r"\s+", "", row.get("ni_number", "")).upper()
    if ni:
        if NI_NUMBER.match(ni):
            out["ni_number"] = ni
        else:
            found.append("ni_number is not a National Insurance number like AB123456C (value not shown)")
    sort_code = re.sub(r"[\s-]+", "", row.get("sort_code", ""))
    account = re.sub(r"\s+", "", row.get("account_number", ""))
    account_name = row.get("account_name", "").strip()
    if sort_code or account or account_name:
        if not re.fullmatch(r"[0-9]{6}", sort_code):
            found.append("sort_code is not 6 digits (value not shown)")
        if not re.fullmatch(r"[0-9]{8}", account):
            found.append("account_number is not 8 digits (value not shown)")
        if not account_name:
            found.append("account_name is missing: give the name on the account with the bank details")
        if re.fullmatch(r"[0-9]{6}", sort_code) and re.fullmatch(r"[0-9]{8}", account) and account_name:
            out.update(sort_code=sort_code, account_number=account, account_name=account_name)
    return out


@dataclass
class StaffSaveResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    sensitive_stored: int = 0


def save_staff(session: Session, parsed: StaffFile, actor: str) -> StaffSaveResult:
    """Add or update staff by email; running the same file twice changes nothing. Blank bank or
    NI columns leave what is stored; given ones replace it (encrypted)."""
    result = StaffSaveResult()
    now = utcnow()
    existing = {m.email: m for m in session.exec(select(StaffMember)).all()}
    for rec in parsed.records:
        values = dict(rec.values)
        if not parsed.has_active:
            values.pop("active")  # a file without the column leaves people as they are
        member = existing.get(values["email"])
        if member is None:
            member = StaffMember(**values)
            session.add(member)
            existing[member.email] = member
            result.added.append(member.email)
        elif _differs(member, values):
            _assign(member, values, now)
            result.updated.append(member.email)
        else:
            result.unchanged += 1
        if rec.sensitive:
            current = read_sensitive(member) if member.sensitive else {}
            wanted = {**current, **rec.sensitive}
            if wanted != current:
                member.sensitive = encrypt_sensitive(wanted)
                member.sensitive_given_at, member.sensitive_purged_at = now, None
                member.updated_at = now
                result.sensitive_stored += 1
                if member.email not in result.added and member.email not in result.updated:
                    result.updated.append(member.email)
                    result.unchanged -= 1
    if result.added or result.updated:
        record(
            session,
            actor,
            "staff imported",
            subject=parsed.path.name,
            # Who changed, never what their bank details are.
            details={
                "added": result.added,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "bank_or_ni_details_stored": result.sensitive_stored,
                "skipped_rows": [p.line for p in parsed.skipped],
            },
        )
    return result


def problems_csv(problems: list[Problem]) -> str:
    """Every skipped or bad row, for --report FILE."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([problems[0].row_word if problems else "line", "reason"])
    for p in problems:
        writer.writerow([p.line, p.reason])
    return out.getvalue()


def iter_problem_lines(problems: list[Problem]) -> Iterator[str]:
    for p in problems:
        yield str(p)
