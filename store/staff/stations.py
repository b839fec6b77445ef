"""Importing polling stations (from the EMS exports councils have) and their electorates.

Every row is checked and every bad row reported with its line (a spreadsheet's row) and why
(store/tables.py). Nothing is written unless the whole file is good, or the user asks to skip bad
rows, and is then told each row that was skipped.

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

import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from store.audit import record
from store.models import utcnow
from store.models.staff import PollingDistrict, PollingPlace, PollingStation
from store.tables import (
    ImportRefused,
    Problem,
    Table,
    assign,
    check_grid,
    check_postcode,
    differs,
    read_table,
    shown,
)
from timetables.errors import PollflowError

FORMATS = ("xpress", "eros", "democracy-counts", "pollflow")
ELECTORS = ("electorate", "electors", "electorcount", "numberofelectors", "noofelectors")
POSTALS = ("postalvoters", "postalelectors", "postals")


# --- reading a station file ---------------------------------------------------------------------


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
# Every column a station or electorate file may name: how the header line is found below a title.
HEADERS = frozenset(
    [c for cols in FORMAT_COLUMNS.values() for c in cols]
    + ["station", "stationcode", "district", "pollingdistrict", *ELECTORS, *POSTALS]
)


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
    table = read_table(path, HEADERS)
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
                f"('{shown(b or '')}' there, '{shown(a or '')}' here): one id, one station"
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
            found.append(f"{label} '{shown(text)}' is not a number")
            return None
        if not as_float.is_integer():
            found.append(f"{label} '{shown(text)}' is not a whole number")
            return None
        value = int(as_float)
    if value < 0:
        found.append(f"{label} {value} is negative")
        return None
    return value


def _address(*parts: str) -> str:
    return ", ".join(p.strip() for p in parts if p and p.strip())


# --- one row of each format ---------------------------------------------------------------------


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
    postcode = check_postcode(row.get("pollingplacepostcode", ""), "Polling_Place_Postcode", found)
    check_postcode(_get(row, "postcode"), "property Post_Code", found)
    easting, northing = check_grid(row, "pollingplaceeasting", "pollingplacenorthing", found)
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
    postcode = check_postcode(row.get("pollingstationpostcode", ""), "PollingStationPostCode", found)
    check_postcode(row.get("postcode", ""), "property Postcode", found)
    easting, northing = check_grid(row, "pollingvenueeasting", "pollingvenuenorthing", found)
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
    postcode = check_postcode(row.get("postcode", ""), "PostCode", found)
    easting, northing = check_grid(row, "xordinate", "yordinate", found)
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
    postcode = check_postcode(row.get("postcode", ""), "postcode", found, required=True)
    electorate = _number(row, ("electorate",), "electorate", found)
    if electorate is None and not row.get("electorate"):
        found.append("no electorate")
    easting, northing = check_grid(row, "easting", "northing", found)
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


# --- saving stations ----------------------------------------------------------------------------


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
        elif differs(place, place_values):
            assign(place, place_values, now)
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
        elif differs(station, values):
            assign(station, {**values, "source": source}, now)
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
            elif differs(district, d_values):
                assign(district, d_values, now)
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


# --- electorates --------------------------------------------------------------------------------


@dataclass
class ElectorateFile:
    path: Path
    by_station: dict[str, tuple[int, int | None]]  # code -> (electorate, postal voters)
    skipped: list[Problem] = field(default_factory=list)


def read_electorates(session: Session, path: str | Path, skip_bad_rows: bool = False) -> ElectorateFile:
    """Electorates by station code or polling district reference (the EMS's electorate report):
    columns station (or district) and electorate, optionally postal_voters. District figures
    are added up per station."""
    table = read_table(path, HEADERS)
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
            found.append(f"no station '{shown(code)}' (import the stations first)")
        elif not code:
            district = districts.get(ref)
            if not ref:
                found.append("no station or district given")
            elif district is None or district.station_id not in by_id:
                found.append(f"no polling district '{shown(ref)}' with a station (import the stations first)")
            else:
                station = by_id[district.station_id]
        electorate = _number(row, ELECTORS, "electorate", found)
        if electorate is None and not found:
            found.append("no electorate")
        postals = _number(row, POSTALS, "postal voters", found)
        ident = code or ref
        if ident in seen and not found:
            found.append(f"'{shown(ident)}' is also on line {seen[ident]}: give each once")
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
            if differs(station, values):
                assign(station, values, now)
                changed.append(station.code)
    if changed:
        record(session, actor, "electorates set", subject=parsed.path.name, details={"stations": changed})
    return changed
