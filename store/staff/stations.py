"""Importing polling stations (from the EMS exports councils have) and their electorates.

Every row is checked and every bad row reported with its line (a spreadsheet's row) and why
(store/tables.py). Nothing is written unless the whole file is good, or the user asks to skip bad
rows, and is then told each row that was skipped.

The formats of station files, and how each row is read, are in store/staff/station_formats.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from store.audit import record
from store.models import utcnow
from store.models.staff import PollingDistrict, PollingPlace, PollingStation
from store.staff.station_formats import (
    ELECTORS,
    FORMAT_COLUMNS,
    FORMATS,
    HEADERS,
    POSTALS,
    RAW_COLUMNS,
    ROW_READERS,
    StationRecord,
    detect_format,
    read_count,
)
from store.tables import (
    ImportRefused,
    Problem,
    assign,
    differs,
    read_table,
    shown,
)
from timetables.errors import PollflowError

# --- reading a station file ---------------------------------------------------------------------


@dataclass
class StationFile:
    path: Path
    format: str
    rows: int
    stations: list[StationRecord]
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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
    reader = ROW_READERS[format]
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
        electorate = read_count(row, ELECTORS, "electorate", found)
        if electorate is None and not found:
            found.append("no electorate")
        postals = read_count(row, POSTALS, "postal voters", found)
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
