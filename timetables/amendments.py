"""Deadlines the law changed for one poll after its timetable was set: emergency legislation, as
data, the way days of mourning are (timetables/data/dies-non.yaml).

When the registration website failed on 7 June 2016, the European Union Referendum (Voter
Registration) Regulations 2016 (SI 2016/668) moved that referendum's registration deadline to
midnight on 9 June. Such an amendment names the kind of poll, its polling day, the event and
its new date (and time), with its citation; it holds for that poll only, in the nations it names.
The bundled ones are in timetables/data/amendments.yaml; a council adds one with
``pollflow law amend`` (written to $POLLFLOW_HOME/amendments.yaml), which then replans every
live poll it touches and tells the owners of what moved.

An amended date is the law's own, so it is not checked against the rule it replaces; events
counted from it move with it, and a date someone sets by hand for that event is refused.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from timetables import calendars, paths
from timetables.datafiles import read_yaml
from timetables.definitions import definitions
from timetables.errors import DefinitionError

NATIONS = ("england", "wales", "scotland", "northern-ireland")
BUNDLED = paths.PACKAGE_DIR / "data" / "amendments.yaml"


class Amendment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str = Field(min_length=2, description="the kind of poll, as `pollflow kinds` lists them")
    poll: dt.date = Field(description="its polling day (a recall petition: the designated day)")
    event: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_.-]*)?$")
    date: dt.date
    time: dt.time | None = None
    nations: tuple[str, ...] = NATIONS
    citation: str = Field(min_length=10, description="the instrument that made the change")
    reason: str | None = None
    added_by: str | None = None  # who added it with `pollflow law amend` (the bundled ones: none)

    def applies(self, nation: str) -> bool:
        return nation in self.nations


class AmendmentsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amendments: list[Amendment] = Field(default_factory=list)


def user_file() -> Path:
    return paths.pollflow_home() / "amendments.yaml"


def read(path: Path) -> list[Amendment]:
    found = read_yaml(path, AmendmentsFile, "list of amendments")
    return found.amendments if found else []


def load() -> list[Amendment]:
    """The bundled amendments, then the council's own."""
    return read(BUNDLED) + read(user_file())


@lru_cache(maxsize=1)
def _index() -> dict[tuple[str, dt.date], tuple[Amendment, ...]]:
    found: dict[tuple[str, dt.date], list[Amendment]] = {}
    for amendment in load():
        found.setdefault((amendment.kind, amendment.poll), []).append(amendment)
    return {key: tuple(items) for key, items in found.items()}


def amended(kind: str, nation: str, poll: dt.date) -> dict[str, Amendment]:
    """The events the law changed for this poll, by key (usually none: one dictionary lookup)."""
    found = _index().get((kind, poll))
    if not found:
        return {}
    return {a.event: a for a in found if a.applies(nation)}


# Read again whenever the calendars are (after `pollflow law amend`, and in tests).
calendars.registry.on_reload(_index.cache_clear)


def check(amendment: Amendment) -> Amendment:
    """An amendment pollflow can apply: a kind it knows, with that event in each nation named,
    and not one already recorded for the same event of the same poll."""

    defs = definitions()
    if amendment.kind not in defs.kinds:
        raise DefinitionError(
            f"no kind of poll '{amendment.kind}': kinds are {', '.join(sorted(defs.kinds))}"
        )
    unknown = [n for n in amendment.nations if n not in NATIONS]
    if unknown:
        raise DefinitionError(f"unknown nation(s) {', '.join(unknown)}: nations are {', '.join(NATIONS)}")
    for nation in amendment.nations:
        try:
            events = defs.get(amendment.kind, nation).events
        except DefinitionError as exc:
            raise DefinitionError(f"a {amendment.kind} poll is not held in {nation}: {exc}") from exc
        if amendment.event not in events:
            raise DefinitionError(
                f"a {amendment.kind} poll in {nation} has no event '{amendment.event}': its events are "
                f"{', '.join(k for k, v in events.items() if v is not None)}"
            )
    for other in load():
        same = (other.kind, other.poll, other.event) == (amendment.kind, amendment.poll, amendment.event)
        if same and set(other.nations) & set(amendment.nations):
            raise DefinitionError(
                f"{amendment.event} of the {amendment.kind} poll on {amendment.poll.isoformat()} was "
                f"already amended, to {other.date.isoformat()} by {other.citation}"
            )
    return amendment


def written_with(amendment: Amendment) -> str:
    """The council's amendments file with ``amendment`` added, as text to write."""
    rows = [a.model_dump(mode="json", exclude_none=True) for a in [*read(user_file()), check(amendment)]]
    for row in rows:
        if tuple(row.get("nations", ())) == NATIONS:
            row.pop("nations")
    return yaml.safe_dump({"amendments": rows}, sort_keys=False, allow_unicode=True)
