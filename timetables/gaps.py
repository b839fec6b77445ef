"""What pollflow does not build for a kind of poll, because the rule text was not found
(timetables/data/gaps.yaml): every timetable of that kind and nation warns of it, naming the gap
and where to take the dates from, so that no one reads a missing event as there being none."""

from __future__ import annotations

from functools import cache

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from timetables import paths
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
    try:
        return tuple(GapsFile.model_validate(yaml.safe_load(SOURCE.read_text(encoding="utf-8"))).gaps)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DefinitionError(f"{SOURCE}: not a valid list of gaps: {exc}") from exc


@cache
def warnings_for(kind: str, nation: str) -> tuple[str, ...]:
    """One warning for each gap in a ``kind`` poll's timetable in ``nation``."""
    return tuple(
        f"not in this timetable: {g.missing} ({g.why}); {g.instead}"
        for g in _all()
        if kind in g.kinds and nation in g.nations
    )
