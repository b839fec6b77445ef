"""Keeping the bank-holiday data current, and adding days of thanksgiving or mourning.

``refresh`` fetches GOV.UK's bank-holidays.json and merges it over the data in use: GOV.UK's feed
covers only recent years, so years it has replace ours and years it lacks are kept. Every change
to a date already known is reported, because it moves every timetable that counts across it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from timetables import calendars, paths, settings
from timetables.calendars import DIVISIONS, DiesNon, parse_bank_holidays, read_dies_non
from timetables.errors import BankHolidayDataError, PollflowError

GOV_UK_URL = settings.BANK_HOLIDAYS_URL


def source_url() -> str:
    return settings.load().bank_holidays_url


def write_atomically(path: Path, text: str) -> None:
    """Write the whole file or nothing: a crash mid-write leaves the old file in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class RefreshReport:
    covered_before: tuple[dt.date, dt.date]
    covered_after: tuple[dt.date, dt.date]
    added: list[tuple[str, dt.date, str]]
    removed: list[tuple[str, dt.date, str]]
    path: Path

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def refresh(url: str | None = None, timeout: float = 30.0) -> RefreshReport:
    """Fetch GOV.UK's bank holidays, merge them in, and save them under POLLFLOW_HOME."""
    url = url or source_url()
    try:
        response = requests.get(url, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        raw = response.json()
    except requests.JSONDecodeError as exc:  # before RequestException, which it also is
        raise BankHolidayDataError(f"{url} did not return JSON: {exc}") from exc
    except requests.RequestException as exc:
        raise PollflowError(f"cannot fetch bank holidays from {url}: {exc}") from exc
    fetched = parse_bank_holidays(raw, url)
    current = calendars.load_bank_holidays()

    merged: dict[str, dict] = {}
    added: list[tuple[str, dt.date, str]] = []
    removed: list[tuple[str, dt.date, str]] = []
    fetched_years = range(fetched.covered_from.year, fetched.covered_to.year + 1)
    for division in DIVISIONS:
        days = {d: t for d, t in current.days[division].items() if d.year not in fetched_years}
        days.update(fetched.days[division])
        old = current.days[division]
        added += [(division, d, t) for d, t in sorted(days.items()) if d not in old]
        removed += [(division, d, t) for d, t in sorted(old.items()) if d not in days]
        merged[division] = {
            "division": division,
            "events": [
                {"title": t, "date": d.isoformat(), "notes": "", "bunting": True}
                for d, t in sorted(days.items())
            ],
        }
    # Check the merged data as it will be read back, before anything is written.
    result = parse_bank_holidays(merged, "merged bank-holiday data")
    target = paths.user_bank_holidays()
    write_atomically(target, json.dumps(merged, indent=1))
    calendars.reload()
    return RefreshReport(
        covered_before=(current.covered_from, current.covered_to),
        covered_after=(result.covered_from, result.covered_to),
        added=added,
        removed=removed,
        path=target,
    )


def add_day(day: dt.date, name: str, divisions: list[str], authority: str | None) -> DiesNon:
    """Record a day of thanksgiving or mourning in the user's data, and rebuild the calendars."""
    unknown = [d for d in divisions if d not in DIVISIONS]
    if unknown:
        raise PollflowError(f"unknown division(s) {', '.join(unknown)}: divisions are {', '.join(DIVISIONS)}")
    entry = DiesNon(date=day, name=name, divisions=divisions or list(DIVISIONS), authority=authority)
    path = paths.user_dies_non()
    existing = read_dies_non(path)
    if any(d.date == day and set(d.divisions) & set(entry.divisions) for d in existing):
        raise PollflowError(f"{day.isoformat()} is already a day of thanksgiving or mourning in {path}")
    days = [d.model_dump(mode="json", exclude_none=True) for d in [*existing, entry]]
    write_atomically(path, yaml.safe_dump({"days": days}, sort_keys=False))
    calendars.reload()
    return entry
