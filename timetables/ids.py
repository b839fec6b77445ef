"""Democracy Club election ids, and the kind of poll and nation each one means.

An id is ``TYPE[.SUBTYPE][.ORGANISATION[.DIVISION]][.by].YYYY-MM-DD``: ``parl.2024-07-04``,
``local.hart.2026-05-07``, ``parl.runcorn-and-helsby.by.2025-05-01``, ``sp.c.2026-05-07``,
``gla.c.barnet-and-camden.2024-05-02``, ``mayor.london.2024-05-02``. Where an id cannot say which
kind of poll it is (a parish or a principal council; a local-authority or combined-authority mayor)
``--kind`` says; where it cannot say which nation, ``--nation`` does.

An Electoral Registration Officer's year (the annual canvass and the monthly notices of alteration)
has the id ``canvass.YYYY`` or ``canvass.ORGANISATION.YYYY``: pollflow's own form, since Democracy
Club ids name polls. Its reference day is that year's 1 December, when the revised register is due.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

import yaml

from timetables import paths
from timetables.errors import InvalidElectionIdError, NationError, UnknownKindError
from timetables.vocabulary import NATIONS

ID_PATTERN = re.compile(r"[a-z]+(?:\.[a-z0-9-]+)*\.\d{4}-\d{2}-\d{2}")
CANVASS_PATTERN = re.compile(r"canvass(?:\.([a-z0-9-]+))?\.(\d{4})")
ID_FORM = (
    "TYPE[.ORGANISATION[.DIVISION]][.by].YYYY-MM-DD, for example local.hart.2026-05-07, "
    "or canvass[.ORGANISATION].YYYY for a registration year"
)

# Election types (the first part of an id) and the kinds of poll each can be.
KINDS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "parl": ("parl", "parl-by"),
    "local": ("local", "parish", "community"),
    "mayor": ("la-mayor", "ca-mayor", "gla"),
    "gla": ("gla",),
    "pcc": ("pcc",),
    "senedd": ("senedd",),
    "naw": ("senedd",),
    "sp": ("sp",),
    "nia": ("nia",),
    "ref": ("ref", "ref-local"),
    "recall": ("recall",),
    "canvass": ("canvass",),
}
# Sub-types Democracy Club puts before the organisation (constituency, region, Assembly-wide).
SUBTYPES = {"sp": {"c", "r"}, "gla": {"c", "a"}, "senedd": {"c", "r"}, "naw": {"c", "r"}}
# Kinds whose nation must be given: no default would be right for most users.
NATION_REQUIRED = {"parl-by", "recall", "canvass"}
# Kinds whose ids name a council whose nation the gazetteer knows.
COUNCIL_KINDS = {"local", "canvass"}
# Kinds that default to England's timetable, with a warning where other nations differ.
NATION_DEFAULT_WARNING = {
    "parl": "no --nation given: showing England's timetable; registration and absent-vote "
    "deadlines differ in Scotland and Northern Ireland (pass --nation)",
    "ref": "no --nation given: showing England's timetable; absent-vote deadlines differ in "
    "Northern Ireland (pass --nation)",
}


@dataclass(slots=True)
class ElectionId:
    raw: str
    election_type: str
    subtype: str | None
    organisation: str | None
    division: str | None
    by_election: bool
    poll_date: dt.date


def parse_election_id(raw: str) -> ElectionId:
    text = raw.strip()
    canvass = CANVASS_PATTERN.fullmatch(text)
    if canvass:
        organisation, year = canvass.group(1), int(canvass.group(2))
        if not 1900 <= year <= 2999:
            raise InvalidElectionIdError(f"election id '{raw}': {year} is not a registration year")
        return ElectionId(text, "canvass", None, organisation, None, False, dt.date(year, 12, 1))
    if text.startswith("canvass."):
        raise InvalidElectionIdError(
            f"election id '{raw}' is malformed: a registration year is canvass[.ORGANISATION].YYYY, "
            "for example canvass.2027 or canvass.hart.2027"
        )
    if not ID_PATTERN.fullmatch(text):
        raise InvalidElectionIdError(f"election id '{raw}' is malformed: expected {ID_FORM}")
    election_type, *parts, date_text = text.split(".")
    if election_type not in KINDS_BY_TYPE:
        raise InvalidElectionIdError(
            f"election id '{raw}' has unknown type '{election_type}': allowed types are "
            f"{', '.join(sorted(KINDS_BY_TYPE))}"
        )
    try:
        poll_date = dt.date.fromisoformat(date_text)
    except ValueError as exc:
        raise InvalidElectionIdError(
            f"election id '{raw}' ends in '{date_text}', which is not a real date"
        ) from exc
    by_election = bool(parts) and parts[-1] == "by"
    if by_election:
        parts.pop()
    subtype = None
    if parts and parts[0] in SUBTYPES.get(election_type, ()):
        subtype = parts.pop(0)
    if len(parts) > 2:
        raise InvalidElectionIdError(f"election id '{raw}' has too many parts: expected {ID_FORM}")
    return ElectionId(
        raw=text,
        election_type=election_type,
        subtype=subtype,
        organisation=parts[0] if parts else None,
        division=parts[1] if len(parts) > 1 else None,
        by_election=by_election,
        poll_date=poll_date,
    )


@cache
def _gazetteer() -> tuple[dict[str, str], frozenset[str]]:
    """Council slug -> nation (outside England), and combined authority slugs."""
    data = yaml.safe_load(paths.BUNDLED_COUNCILS.read_text(encoding="utf-8"))
    nations = {slug: nation for nation in ("wales", "scotland", "northern-ireland") for slug in data[nation]}
    return nations, frozenset(data["combined_authorities"])


def council_nation(slug: str) -> str | None:
    """The nation of a council outside England, by its Democracy Club slug."""
    return _gazetteer()[0].get(slug)


def is_combined_authority(slug: str) -> bool:
    base = re.sub(r"-(ca|cca)$", "", slug)
    return slug != base or base in _gazetteer()[1]


@dataclass(slots=True)
class Resolved:
    """An id with the kind and nation it stands for, and anything assumed on the way."""

    election_id: ElectionId
    kind: str
    nation: str
    warnings: tuple[str, ...]


def _kind_for(eid: ElectionId, kind: str | None, warnings: list[str]) -> str:
    allowed = KINDS_BY_TYPE[eid.election_type]
    if kind is not None:
        if kind not in allowed:
            raise UnknownKindError(
                f"--kind {kind} does not fit '{eid.raw}': a '{eid.election_type}' id can be "
                f"{', '.join(allowed)}"
            )
        if kind == "parl" and eid.by_election:
            raise UnknownKindError(f"--kind parl does not fit '{eid.raw}': the id is a by-election (parl-by)")
        return kind
    match eid.election_type:
        case "parl":
            return "parl-by" if eid.by_election else "parl"
        case "mayor":
            if eid.organisation == "london":
                return "gla"
            if eid.organisation and is_combined_authority(eid.organisation):
                return "ca-mayor"
            warnings.append(
                f"'{eid.organisation}' is not a known combined authority: taken as a "
                "local-authority mayor (pass --kind ca-mayor if it is one)"
            )
            return "la-mayor"
        case "ref":
            return "ref" if eid.organisation is None else "ref-local"
        case _:
            return allowed[0]


def resolve(raw: str, kind: str | None = None, nation: str | None = None, known_kinds=None) -> Resolved:
    """The kind of poll and the nation an id stands for, or a clear error."""
    eid = parse_election_id(raw)
    warnings: list[str] = []
    if kind is not None and known_kinds is not None and kind not in known_kinds:
        raise UnknownKindError(f"unknown kind '{kind}': kinds are {', '.join(sorted(known_kinds))}")
    chosen = _kind_for(eid, kind, warnings)
    nations = known_kinds[chosen].nations if known_kinds else NATIONS
    if nation is not None and nation not in NATIONS:
        raise NationError(f"unknown nation '{nation}': nations are {', '.join(NATIONS)}")

    if chosen == "canvass" and nation == "northern-ireland":
        raise NationError(
            "Northern Ireland has no annual canvass: its register is kept by the Chief Electoral "
            "Officer under its own rules; a registration year is for england, wales or scotland"
        )
    if eid.election_type in COUNCIL_KINDS and eid.organisation:
        gazetteer_nation = council_nation(eid.organisation)
        if nation and gazetteer_nation and nation != gazetteer_nation:
            raise NationError(f"'{eid.organisation}' is a council in {gazetteer_nation}, not {nation}")
        if nation is None and len(nations) > 1:
            nation = gazetteer_nation
            if nation is None:
                nation = "england"
                warnings.append(
                    f"'{eid.organisation}' is not a Welsh, Scottish or Northern Irish council: "
                    "taken to be in England (pass --nation to say otherwise)"
                )

    if nation is None:
        if len(nations) == 1:
            nation = nations[0]
        elif chosen in NATION_REQUIRED or (chosen == "local" and not eid.organisation):
            if chosen == "canvass":
                raise NationError(
                    f"'{eid.raw}' needs --nation: the registration year runs on each nation's own "
                    f"rules and bank holidays ({', '.join(nations)})"
                )
            raise NationError(
                f"'{eid.raw}' needs --nation: a {chosen} poll's timetable depends on the "
                f"part of the UK it is in ({', '.join(nations)})"
            )
        else:
            nation = "england"
            if chosen in NATION_DEFAULT_WARNING:
                warnings.append(NATION_DEFAULT_WARNING[chosen])
    if nation not in nations:
        raise NationError(f"a {chosen} poll cannot be in {nation}: it is held in {', '.join(nations)}")
    return Resolved(eid, chosen, nation, tuple(warnings))


SHORT_NAMES = {
    "parl": "UK Parliament general election",
    "parl-by": "{org} UK Parliament by-election",
    "local": "{org} council election",
    "parish": "{org} parish and town council elections",
    "community": "{org} community council elections",
    "la-mayor": "{org} mayoral election",
    "ca-mayor": "{org} combined authority mayoral election",
    "pcc": "{org} Police and Crime Commissioner election",
    "gla": "Greater London Authority elections",
    "senedd": "Senedd election",
    "sp": "Scottish Parliament election",
    "nia": "Northern Ireland Assembly election",
    "ref": "referendum",
    "ref-local": "{org} local referendum",
    "recall": "{org} recall petition",
    "canvass": "{org} registration year and annual canvass",
}
SMALL_WORDS = {"and", "of", "the", "upon", "on", "in", "under", "with", "by"}


def place_name(slug: str) -> str:
    """'newcastle-upon-tyne' -> 'Newcastle upon Tyne'."""
    words = slug.split("-")
    return " ".join(w if n and w in SMALL_WORDS else w.capitalize() for n, w in enumerate(words))


def describe(raw: str, kind: str) -> str:
    """A name people use for the poll: 'Hart council election'."""
    eid = parse_election_id(raw)
    org = place_name(eid.division or eid.organisation) if eid.organisation else ""
    if kind == "canvass":
        name = f"{org} registration year {eid.poll_date.year}".strip()
        return name[0].upper() + name[1:]
    if kind == "local" and eid.by_election and eid.division:
        return f"{place_name(eid.division)} by-election ({place_name(eid.organisation)})"
    name = SHORT_NAMES.get(kind, kind).format(org=org).strip()
    return name[0].upper() + name[1:]
