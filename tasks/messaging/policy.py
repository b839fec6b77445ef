"""The alert policy (config/alerts.yaml, with the council's own laid over it): when messages to
the team wait, gather, or go at once, and how each person may choose to hear.

Each person's choice (Person.hear_by) is one of HEAR_BY. Whatever they chose, an urgent message
(a missed statutory deadline) goes at once and by email; the choice shapes everything else.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from store.staff.config import layered
from timetables.clock import LONDON

HEAR_BY = {
    "email": "By email, as things happen",
    "text": "By text message (GOV.UK Notify), as things happen",
    "digest": "Only in my morning digest (urgent messages still come by email at once)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Strict):
    start: dt.time
    end: dt.time

    def holds(self, moment: dt.datetime) -> dt.datetime | None:
        """When the quiet hours ``moment`` falls in end, or None if it is outside them."""
        local = moment.astimezone(LONDON)
        t, day = local.timetz().replace(tzinfo=None), local.date()
        if self.start == self.end:
            return None
        if self.start < self.end:  # within one day, 01:00-05:00 say
            inside = self.start <= t < self.end
            end_day = day
        else:  # over midnight, 20:00-07:00
            inside = t >= self.start or t < self.end
            end_day = day + dt.timedelta(days=1) if t >= self.start else day
        if not inside:
            return None
        return dt.datetime.combine(end_day, self.end, tzinfo=LONDON).astimezone(dt.UTC)


class Policy(_Strict):
    """config/alerts.yaml, which says what each key means: every key is given there, so the
    file is the one place the defaults are written."""

    overdue_to_manager_after_hours: int = Field(ge=1)
    gather_minutes: int = Field(ge=0)
    quiet_hours: QuietHours | None
    urgent: tuple[str, ...]
    gathered: tuple[str, ...]
    missed_to: tuple[str, ...]
    managers: tuple[str, ...]

    @property
    def gather_window(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.gather_minutes)

    @property
    def overdue_to_manager_after(self) -> dt.timedelta:
        return dt.timedelta(hours=self.overdue_to_manager_after_hours)


def policy() -> Policy:
    return layered(Policy, "alerts.yaml", "POLLFLOW_ALERTS_CONFIG")
