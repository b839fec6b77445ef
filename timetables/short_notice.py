"""Polls called at short notice: a general election (by dissolution) or a by-election (by its
writ). The work catalogue plans a scheduled poll months ahead; for a poll called at short notice
no work can be due before it was called, so such work falls due on that day (timetables/work.py).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from timetables.model import Event

LONDON = ZoneInfo("Europe/London")
END_OF_DAY_WORK = dt.time(17, 0)  # the catalogue's default due time
CALLED_BY = ("dissolution", "writ_received")
SHORT_NOTICE = "Due the day the poll was called: a poll planned ahead has it earlier."


def called_at(events: dict[str, list[Event]]) -> dt.datetime | None:
    """When a poll called at short notice was called (the end of that day's work), or None for a
    poll known of ahead (its events include neither a dissolution nor a writ)."""
    days = [e.earliest or e.date for key in CALLED_BY for e in events.get(key, ())]
    return dt.datetime.combine(min(days), END_OF_DAY_WORK, tzinfo=LONDON) if days else None
