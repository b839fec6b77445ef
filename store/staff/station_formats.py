"""The station files councils' EMSs export, and how a row of each becomes a station record.

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

from store.tables import Table, check_grid, check_postcode, shown
from timetables.errors import PollflowError

FORMATS = ("xpress", "eros", "democracy-counts", "pollflow")
ELECTORS = ("electorate", "electors", "electorcount", "numberofelectors", "noofelectors")
POSTALS = ("postalvoters", "postalelectors", "postals")


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


def _get(row: dict[str, str], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value:
            return value
    return ""


def read_count(row: dict[str, str], names: tuple[str, ...], label: str, found: list[str]) -> int | None:
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
    electors = read_count(row, ELECTORS, "electors", found)
    postals = read_count(row, POSTALS, "postal voters", found)
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
    electors = read_count(row, ELECTORS, "electors", found)
    postals = read_count(row, POSTALS, "postal voters", found)
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
        electorate=read_count(row, ELECTORS, "electorate", found),
        postal_voters=read_count(row, POSTALS, "postal voters", found),
    )


def _pollflow(line: int, row: dict[str, str], found: list[str]) -> StationRecord | None:
    code, name = row.get("code", ""), row.get("name", "")
    if not code:
        found.append("no code")
    if not name:
        found.append("no name")
    postcode = check_postcode(row.get("postcode", ""), "postcode", found, required=True)
    electorate = read_count(row, ("electorate",), "electorate", found)
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
        postal_voters=read_count(row, ("postalvoters",), "postal_voters", found),
    )


ROW_READERS = {
    "xpress": _xpress,
    "eros": _eros,
    "democracy-counts": _democracy_counts,
    "pollflow": _pollflow,
}
