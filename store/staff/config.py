"""Staffing rules and the fee schedule, as configuration (config/staffing.yaml, config/fees.yaml).

A council changes them with its own YAML file laid over the bundled one, giving only the keys it
changes: POLLFLOW_STAFFING_CONFIG (else $POLLFLOW_HOME/staffing.yaml) and POLLFLOW_FEES_CONFIG
(else $POLLFLOW_HOME/fees.yaml). Both are validated: a bad value is refused with its key named.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from store.models.staff import STAFF_ROLES
from timetables import settings
from timetables.errors import PollflowError
from timetables.paths import pollflow_home

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


class ConfigError(PollflowError):
    """A staffing or fees file that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Duty(_Strict):
    starts: dt.time
    ends: dt.time


def _roles(value: list[str] | dict) -> list[str] | dict:
    names = value.keys() if isinstance(value, dict) else value
    unknown = [r for r in names if r not in STAFF_ROLES]
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}: roles are {', '.join(STAFF_ROLES)}")
    return value


class Band(_Strict):
    electors: int = Field(gt=0)
    posts: dict[str, int]

    _check = field_validator("posts")(_roles)

    @model_validator(mode="after")
    def _one_presiding_officer(self) -> Band:
        if self.posts.get("presiding-officer") != 1:
            raise ValueError("each band needs exactly one presiding-officer (RPA 1983 Sch 1 r.26)")
        if set(self.posts) - {"presiding-officer", "poll-clerk"}:
            raise ValueError("a station's posts are presiding-officer and poll-clerk")
        return self


class Council(_Strict):
    name: str
    returning_officer: str
    address: str
    email: str
    phone: str


class Stations(_Strict):
    basis: str
    exclude_postal_voters: bool = True
    bands: list[Band] = Field(min_length=1)
    max_electors: int = Field(gt=0)
    combined_poll_extra_clerks: int = Field(default=0, ge=0)
    duty: Duty

    @model_validator(mode="after")
    def _ascending(self) -> Stations:
        limits = [b.electors for b in self.bands]
        if limits != sorted(set(limits)):
            raise ValueError(f"bands must go up in electors, each once: got {limits}")
        return self


class Inspectors(_Strict):
    basis: str
    stations_per_inspector: int = Field(gt=0)
    duty: Duty


class Count(_Strict):
    basis: str
    starts: Literal["overnight", "next_day"]
    turnout: float = Field(gt=0, le=1)
    ballot_papers_per_assistant: int = Field(gt=0)
    assistants_per_supervisor: int = Field(gt=0)
    duty: Duty


class PostalOpening(_Strict):
    basis: str
    postal_voter_share: float = Field(ge=0, le=1)
    return_rate: float = Field(ge=0, le=1)
    packets_per_opener: int = Field(gt=0)
    min_openers: int = Field(ge=0)
    duty: Duty


class Allocation(_Strict):
    in_charge: list[str]
    min_polls_in_role: int = Field(ge=0)
    min_polls_any_role: int = Field(ge=0)
    max_distance_km: float | None = Field(default=None, gt=0)
    station_preference_km: float = Field(ge=0)
    area_preference_km: float = Field(ge=0)
    colleague_preference_km: float = Field(ge=0)
    reserve_share: float = Field(ge=0, le=1)

    _check = field_validator("in_charge")(_roles)


class Recruitment(_Strict):
    close_days_before_poll: int = Field(gt=0)
    training_days_before_poll: int = Field(gt=0)
    invite_days_before_close: int = Field(ge=0)
    respond_days_before_close: int = Field(ge=0)
    allocate_days_before_close: int = Field(ge=0)
    chase_after_days: float = Field(gt=0)
    chase_every_days: float = Field(gt=0)
    max_chasers: int = Field(ge=0)
    offer_chase_after_days: float = Field(gt=0)
    offer_lapses_days: float = Field(gt=0)
    min_answer_days: float = Field(default=3, gt=0)

    @model_validator(mode="after")
    def _order(self) -> Recruitment:
        if (
            not self.invite_days_before_close
            >= self.respond_days_before_close
            >= self.allocate_days_before_close
        ):
            raise ValueError("invitations go out before answers are due, and answers before allocation")
        if self.training_days_before_poll >= self.close_days_before_poll:
            raise ValueError("recruitment closes before training must be done (close_days > training_days)")
        return self


class Training(_Strict):
    basis: str
    required_for: list[str]

    _check = field_validator("required_for")(_roles)


class Retention(_Strict):
    basis: str
    sensitive_data_days: int = Field(gt=0)


class StaffingRules(_Strict):
    council: Council
    stations: Stations
    inspectors: Inspectors
    count: Count
    postal_opening: PostalOpening
    allocation: Allocation
    recruitment: Recruitment
    training: Training
    retention: Retention

    def station_posts(self, electors: int | None, combined: bool = False) -> dict[str, int]:
        """The posts a station needs for its electorate (the top band above every band)."""
        band = self.bands_for(electors)
        posts = dict(band.posts)
        if combined and self.stations.combined_poll_extra_clerks:
            posts["poll-clerk"] = posts.get("poll-clerk", 0) + self.stations.combined_poll_extra_clerks
        return posts

    def bands_for(self, electors: int | None) -> Band:
        for band in self.stations.bands:
            if electors is not None and electors <= band.electors:
                return band
        return self.stations.bands[-1]


class RoleFee(_Strict):
    fee: Decimal = Field(ge=0, decimal_places=2)
    element: str


class Extra(_Strict):
    name: str
    roles: list[str]
    fee: Decimal = Field(ge=0, decimal_places=2)
    element: str
    combined_polls_only: bool = False

    _check = field_validator("roles")(_roles)


class Mileage(_Strict):
    per_mile: Decimal = Field(ge=0, decimal_places=2)
    roles: list[str]
    element: str

    _check = field_validator("roles")(_roles)


class Fees(_Strict):
    currency: Literal["GBP"]
    basis: str
    roles: dict[str, RoleFee]
    training: RoleFee
    extras: list[Extra] = Field(default_factory=list)
    mileage: Mileage | None = None

    @field_validator("roles")
    @classmethod
    def _every_role(cls, value: dict[str, RoleFee]) -> dict[str, RoleFee]:
        _roles(value)
        missing = [r for r in STAFF_ROLES if r not in value]
        if missing:
            raise ValueError(f"no fee for {', '.join(missing)}: give every role a fee (0 if unpaid)")
        return value


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data


def _council_file(env: str, name: str) -> Path | None:
    given = settings.env(env)
    if given:
        path = Path(given)
        if not path.exists():
            raise ConfigError(f"{env}={given}: no such file")
        return path
    path = pollflow_home() / name
    return path if path.exists() else None


def _load(model: type[BaseModel], name: str, env: str) -> tuple[BaseModel, list[Path]]:
    """The files in force, read again only when one of them changes (a message per invitation
    asks for the council's name: thousands of times in a run)."""
    paths = [CONFIG_DIR / name]
    council = _council_file(env, name)
    if council is not None:
        paths.append(council)
    return _parse(model, _stamps(paths)), paths


def _stamps(paths: list[Path]) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)


@lru_cache(maxsize=16)
def _parse(model: type[BaseModel], stamps: tuple) -> BaseModel:
    paths = [Path(p) for p, _, _ in stamps]
    data = _read(paths[0])
    for council in paths[1:]:
        data = _merge(data, _read(council))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(
            f"{' over '.join(str(p) for p in reversed(paths))}: {where}: {first['msg']}"
            + (f" ({len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else "")
        ) from exc


def staffing_rules() -> StaffingRules:
    return _load(StaffingRules, "staffing.yaml", "POLLFLOW_STAFFING_CONFIG")[0]


def example_council() -> Council:
    """The council pollflow's own staffing configuration names: an example, until a council
    gives its own (in its configuration, or saved in the workspace)."""
    return _parse(StaffingRules, _stamps([CONFIG_DIR / "staffing.yaml"])).council


def layered(model: type[BaseModel], name: str, env: str) -> BaseModel:
    """Any of pollflow's configuration files (config/<name>, with the council's own file laid
    over it) as ``model``: the staffing rules, the fees, the alert policy."""
    return _load(model, name, env)[0]


def fee_schedule() -> Fees:
    return _load(Fees, "fees.yaml", "POLLFLOW_FEES_CONFIG")[0]


def config_sources() -> dict[str, list[str]]:
    return {
        "staffing": [str(p) for p in _load(StaffingRules, "staffing.yaml", "POLLFLOW_STAFFING_CONFIG")[1]],
        "fees": [str(p) for p in _load(Fees, "fees.yaml", "POLLFLOW_FEES_CONFIG")[1]],
    }
