"""The follow-up work a progress report calls for: one work item per need and polling district,
owned by the role that does it, due when its first property is, with a reminder on the day; updated
as the figures change, reopened when a need comes back, and closed (not deleted) when it has gone.

``SOURCE`` and ``DUE_TIME`` are those of every work item the canvass makes (the deferral's too).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from store.audit import record
from store.canvass.imports import current_import, load_properties
from store.canvass.rules import HORIZON, NEEDS, Group, Need, Rules, analyse, rules_for
from store.models import Poll, Reminder, WorkItem, WorkStatus, utcnow
from store.owners import OwnerPicker
from timetables.clock import local, london
from timetables.work import ON_THE_DAY_TIME

SOURCE = "canvass"  # WorkItem.source: sync_poll leaves this work alone
DUE_TIME = dt.time(17, 0)
SHOWN_REFS = 10
FOLLOW_UP_PREFIX = "canvass:"


def work_key(need: str, district: str) -> str:
    return f"{FOLLOW_UP_PREFIX}{need}:{district}"


@dataclass
class WorkChanges:
    raised: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.raised or self.updated or self.closed or self.reopened)

    def summary(self) -> dict:
        return {
            "raised": self.raised,
            "updated": self.updated,
            "closed": self.closed,
            "reopened": self.reopened,
            "unchanged": self.unchanged,
        }


def _describe(group: Group, need: Need, rules: Rules, as_of: dt.date) -> tuple[str, str, dt.date]:
    dues = sorted(group.due)
    n = len(dues)
    earliest = dues[0][0]
    overdue = sum(1 for due, _ in dues if due < as_of)
    soon = sum(1 for due, _ in dues if as_of <= due <= as_of + HORIZON)
    title = need.title.format(n=n, properties="property" if n == 1 else "properties", district=group.district)
    refs = ", ".join(ref for _, ref in dues[:SHOWN_REFS]) + (
        f" and {n - SHOWN_REFS} more" if n > SHOWN_REFS else ""
    )
    lines = [
        f"{n} {'property' if n == 1 else 'properties'} in polling district {group.district}: "
        f"{overdue} overdue, {soon} due within 7 days; the first is due {earliest:%a %d %b %Y}.",
    ]
    if group.people:
        lines.append(f"{group.people} potential elector(s) still to apply.")
    lines += [
        f"Rule: {need.rule}; nothing is due after {rules.last_application:%d %B %Y}, the last day for "
        "applications to the revised register.",
        f"Source: {rules.citations.get(need.citation_of) or _citation(need)}",
        f"Properties, earliest due first: {refs}.",
        f"Full list: pollflow canvass list {rules.poll_key} --need {need.key} --district {group.district}",
    ]
    return title, "\n".join(lines), earliest


def _citation(need: Need) -> str:
    return {
        "invitations_to_register": 'RPA 1983 s.9E; EC "Running electoral registration"',
        "notice_requiring_application": 'RPA 1983 s.9E; EC "Running electoral registration"',
    }.get(need.citation_of, 'EC "Delivering the annual canvass"')


def raise_follow_up_work(
    session: Session,
    poll: Poll,
    actor: str,
    flow_run_id: str | None = None,
    groups: dict[tuple[str, str], Group] | None = None,
) -> WorkChanges:
    """Make the canvass's follow-up work match the current progress report: one work item per
    need and polling district, owned by the role that does it, due when its first property is;
    updated when the numbers change; closed (not deleted) when the need has gone."""
    changes = WorkChanges()
    current = current_import(session, poll)
    if current is None:
        return changes
    rules = rules_for(session, poll)
    as_of = current.report_date
    if groups is None:
        _, groups = analyse(load_properties(session, poll), as_of, rules)
    stored = {
        w.key: w
        for w in session.scalars(
            select(WorkItem).where(
                WorkItem.poll_id == poll.id,
                WorkItem.source == SOURCE,
                WorkItem.key.like(f"{FOLLOW_UP_PREFIX}%"),
            )
        ).all()
        if w.key.split(":")[1] in NEEDS
    }
    picker: OwnerPicker | None = None
    reminders = {
        r.work_item_id: r
        for r in session.scalars(
            select(Reminder).where(
                Reminder.label == "on the day", Reminder.work_item_id.in_([w.id for w in stored.values()])
            )
        ).all()
    }
    due_days: list[tuple[WorkItem, dt.date]] = []
    audit = dict(poll_id=poll.id, flow_run_id=flow_run_id)
    wanted = set()
    for (need_key, district), group in sorted(groups.items()):
        need = NEEDS[need_key]
        key = work_key(need_key, district)
        wanted.add(key)
        title, description, earliest = _describe(group, need, rules, as_of)
        due_at = london(earliest, DUE_TIME)
        details = {
            "properties": len(group.due),
            "due": local(due_at).isoformat(),
            "report_date": as_of.isoformat(),
        }
        item = stored.get(key)
        if item is None:
            picker = picker or OwnerPicker(session)
            owner = picker.pick(need.owner_role)
            item = WorkItem(
                poll_id=poll.id,
                key=key,
                title=title,
                description=description,
                owner_role=need.owner_role,
                owner_id=owner.id if owner else None,
                due_at=due_at,
                anchor="canvass progress report",
                event_key=need.event_key,
                source=SOURCE,
            )
            session.add(item)
            changes.raised.append(key)
            record(
                session,
                actor,
                "canvass work raised",
                subject=key,
                details={**details, "owner": owner.email if owner else None},
                **audit,
            )
        else:
            if item.status != WorkStatus.OPEN:
                by_person = item.completed_by_id is not None and item.completed_at is not None
                if by_person and local(item.completed_at).date() >= as_of:
                    changes.unchanged += 1  # done by someone since this report was made
                    continue
                item.status, item.note = WorkStatus.OPEN, None
                item.completed_at, item.completed_by_id = None, None
                changes.reopened.append(key)
                record(session, actor, "canvass work reopened", subject=key, details=details, **audit)
            elif (item.title, item.description, item.due_at) != (title, description, due_at):
                changes.updated.append(key)
                was = re.match(r"\D*(\d+)", item.title)
                record(
                    session,
                    actor,
                    "canvass work updated",
                    subject=key,
                    details={
                        **details,
                        "was_properties": int(was[1]) if was else None,
                        "was_due": local(item.due_at).isoformat(),
                    },
                    **audit,
                )
            else:
                changes.unchanged += 1
            item.title, item.description, item.due_at = title, description, due_at
        due_days.append((item, earliest))
    for key, item in stored.items():
        if key not in wanted and item.status == WorkStatus.OPEN:
            item.status, item.completed_at = WorkStatus.DONE, utcnow()
            item.note = f"closed: the progress report of {as_of:%d %B %Y} shows no property needing it"
            changes.closed.append(key)
            record(
                session,
                actor,
                "canvass work closed",
                subject=key,
                details={"report_date": as_of.isoformat()},
                **audit,
            )
    session.flush()  # the new items' ids, for their reminders
    for item, day in due_days:
        when = london(day, ON_THE_DAY_TIME)  # the catalogue's own on-the-day hour
        row = reminders.get(item.id)
        if row is None:
            session.add(Reminder(work_item_id=item.id, label="on the day", remind_at=when))
        elif row.remind_at != when:  # the due date moved: remind again for the new one
            row.remind_at, row.sent_at = when, None
    session.flush()
    return changes
