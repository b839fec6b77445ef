"""What planning a poll changed (``store.planning.sync_poll``'s answer): what was added, moved,
cancelled or reopened, and who was given new work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class Moved:
    key: str
    old: dt.datetime
    new: dt.datetime
    owner_id: int | None = None
    work_item_id: int | None = None


@dataclass
class Changes:
    poll_created: bool = False
    events_added: list[str] = field(default_factory=list)
    events_moved: list[Moved] = field(default_factory=list)
    events_removed: list[str] = field(default_factory=list)
    work_added: list[str] = field(default_factory=list)
    work_moved: list[Moved] = field(default_factory=list)
    work_cancelled: list[str] = field(default_factory=list)
    work_reopened: list[str] = field(default_factory=list)
    reminders_added: int = 0
    reminders_moved: int = 0
    assigned: dict[str, str] = field(default_factory=dict)  # work key -> email
    unassigned: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.poll_created,
                self.events_added,
                self.events_moved,
                self.events_removed,
                self.work_added,
                self.work_moved,
                self.work_cancelled,
                self.work_reopened,
                self.reminders_added,
                self.reminders_moved,
            )
        )

    def summary(self) -> dict:
        return {
            "poll_created": self.poll_created,
            "events_added": len(self.events_added),
            "events_moved": [
                {"key": m.key, "from": m.old.isoformat(), "to": m.new.isoformat()} for m in self.events_moved
            ],
            "events_removed": self.events_removed,
            "work_added": len(self.work_added),
            "work_moved": [
                {"key": m.key, "from": m.old.isoformat(), "to": m.new.isoformat()} for m in self.work_moved
            ],
            "work_cancelled": self.work_cancelled,
            "work_reopened": self.work_reopened,
            "reminders_added": self.reminders_added,
            "reminders_moved": self.reminders_moved,
            "unassigned": self.unassigned,
        }


def same_moment(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    return a == b  # aware datetimes compare by instant
