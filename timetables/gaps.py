"""What pollflow does not build for a kind of poll, because the rule text was not found
(timetables/data/gaps.yaml): every timetable of that kind and nation warns of it, naming the gap
and where to take the dates from, so that no one reads a missing event as there being none."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from timetables import paths
from timetables.datafiles import read_yaml
from timetables.errors import DefinitionError

SOURCE = paths.PACKAGE_DIR / "data" / "gaps.yaml"


class Gap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: tuple[str, ...] = Field(min_length=1)
    nations: tuple[str, ...] = Field(min_length=1)
    missing: str = Field(min_length=10, description="what is not in the timetable")
    why: str = Field(min_length=10, description="what was looked for and not found")
    instead: str = Field(min_length=10, description="where an officer takes the dates from")


class GapsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gaps: list[Gap]


@cache
def _all() -> tuple[Gap, ...]:
    found = read_yaml(SOURCE, GapsFile, "list of gaps")
    if found is None:
        raise DefinitionError(f"{SOURCE} is missing: it is part of pollflow")
    return tuple(found.gaps)


@cache
def warnings_for(kind: str, nation: str) -> tuple[str, ...]:
    """One warning for each gap in a ``kind`` poll's timetable in ``nation``."""
    return tuple(
        f"not in this timetable: {g.missing} ({g.why}); {g.instead}"
        for g in _all()
        if kind in g.kinds and nation in g.nations
    )
