"""The work around a timetable: tasks with owners, due dates, dependencies and reminders.

Each definition declares a catalogue of tasks beside its statutory events; a council's overlay file
adds, changes or removes tasks without touching the statutory definitions. A task is due counting
from polling day, from a statutory event, or from another task. A task counted from an event that
does not apply to the poll is left out, and the tasks that waited for it no longer wait. At a
combined poll a task counted from an event each election keeps for itself (publishing its
statement of persons nominated, say) becomes one task per election, unless the task is shared: the
poll cards, the ballot paper order, the postal vote issue and the count are done once for the
poll, and their description names the elections they serve. An overlay may not make a task due
before a task it depends on.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import get_args, get_origin
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ValidationError

from timetables.calendars import Calendar, registry
from timetables.compute import _calendar_id, add_months, plan_for
from timetables.definitions import definitions
from timetables.errors import DefinitionError, PollflowError
from timetables.model import Event, Timetable
from timetables.schema import Overlay, TaskDef
from timetables.short_notice import SHORT_NOTICE, called_at

LONDON = ZoneInfo("Europe/London")
DEFAULT_DUE_TIME = dt.time(17, 0)
REMINDER_TIME = dt.time(9, 0)
ON_THE_DAY_TIME = dt.time(8, 0)


class OverlayError(PollflowError):
    """An overlay file that is invalid, or that names tasks the catalogue does not have."""


@dataclass(frozen=True)
class PlannedTask:
    key: str  # the catalogue key, with ":<election id>" where a combined poll has one per election
    task: str  # the catalogue key
    title: str
    description: str | None
    owner_role: str
    due: dt.datetime  # aware, Europe/London
    anchor: str
    event_key: str | None
    election_id: str | None
    depends_on: tuple[str, ...]
    reminders: tuple[tuple[str, dt.datetime], ...]  # (label, when)
    needs_signoff: bool
    source: str  # catalogue | overlay
    cites: str | None = None  # where the work comes from (guidance, plan stage, statute)
    serves: tuple[str, ...] = ()  # a shared task at a combined poll: the elections it serves


def load_overlay(path: str | Path) -> Overlay:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise OverlayError(f"cannot read overlay {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise OverlayError(f"{path.name}: not UTF-8 text (byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        raise OverlayError(f"{path.name} is not valid YAML: {_yaml_problem(exc)}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise OverlayError(
            f"{path.name}: an overlay is a mapping with any of {', '.join(Overlay.model_fields)}, "
            f"not {type(raw).__name__}"
        )
    try:
        return Overlay.model_validate(raw)
    except ValidationError as exc:
        raise OverlayError(f"{path.name}: {_problems(exc, Overlay)}") from exc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: where (line and column) and what, without YAML's multi-line excerpt."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}"


def _problems(exc: ValidationError, root: type[BaseModel]) -> str:
    """Each error with its place; an unknown field names the fields allowed there."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        place = ".".join(loc) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        if loc and loc[-1] == "[key]":
            place = ".".join(loc[:-1])
            message = "a task key is lower-case letters, digits and underscores, starting with a letter"
        elif err["type"] == "extra_forbidden":
            model = _model_at(root, err["loc"][:-1])
            if model is not None:
                message = f"unknown field: the fields are {', '.join(model.model_fields)}"
        out.append(f"{place}: {message}")
    return "; ".join(out)


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model a validation error's location points into (walking fields, dict keys, lists)."""
    pending: list = [root]
    for part in loc:
        annotation = pending.pop(0) if pending else None
        while True:  # unwrap Optional[...] and Annotated[...] to the model, dict or list inside
            args = [a for a in get_args(annotation) if a is not type(None)]
            origin = get_origin(annotation)
            if origin in (dict, list) or not args or isinstance(annotation, type):
                break
            annotation = args[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            pending = [field.annotation]
        elif get_origin(annotation) is dict:
            pending = [get_args(annotation)[1]]
        elif get_origin(annotation) is list:
            pending = [get_args(annotation)[0]]
        else:
            return None
    annotation = pending[0] if pending else None
    while not isinstance(annotation, type) and get_args(annotation):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def catalogue(tt: Timetable) -> dict[str, TaskDef]:
    """The tasks the definitions of every election in the timetable declare."""
    defs = definitions()
    tasks: dict[str, TaskDef] = {}
    for election in tt.elections:
        for key, task in defs.get(election.kind, election.nation).tasks.items():
            tasks.setdefault(key, task)
    return tasks


def apply_overlay(tasks: dict[str, TaskDef], overlay: Overlay | None) -> dict[str, tuple[TaskDef, str]]:
    """The catalogue with a council's changes: every key it names must be one the catalogue has.

    A removed task is gone: the tasks that waited for it no longer wait. A task still counted
    from it must be changed (or removed) by the overlay too.
    """
    result = {key: (task, "catalogue") for key, task in tasks.items()}
    if overlay is None:
        return result
    known = ", ".join(sorted(tasks))
    removed = set()
    for key in dict.fromkeys(overlay.remove):
        if key not in result:
            raise OverlayError(f"overlay removes unknown task '{key}': tasks are {known}")
        del result[key]
        removed.add(key)
    for key, (task, source) in result.items():
        if removed & set(task.depends_on):
            kept = [d for d in task.depends_on if d not in removed]
            result[key] = (task.model_copy(update={"depends_on": kept}), source)
    for key, change in overlay.change.items():
        if key not in result:
            why = "which it also removes" if key in removed else f"tasks are {known}"
            raise OverlayError(f"overlay changes unknown task '{key}': {why}")
        task, _ = result[key]
        # The change's own fields (models, not dumped dicts), checked again as a whole task.
        fields = {name: getattr(change, name) for name in change.model_fields_set}
        try:
            changed = TaskDef.model_validate({**dict(task), **fields})
        except ValidationError as exc:
            raise OverlayError(f"overlay change to '{key}': {_problems(exc, TaskDef)}") from exc
        result[key] = (changed, "overlay")
    for key, task in overlay.add.items():
        if key in tasks:
            raise OverlayError(
                f"overlay adds task '{key}', which the catalogue already has: use 'change' to alter it"
            )
        result[key] = (task, "overlay")
    for key, (task, _) in result.items():
        if task.due.anchor in removed:
            raise OverlayError(
                f"task '{key}' is due counting from '{task.due.anchor}', which the overlay removes: "
                f"change its due date or remove it too"
            )
    return result


def known_events() -> set[str]:
    """Every statutory event key any definition has (a monthly series by its template key)."""
    keys = set()
    for _, definition in definitions().by_kind_nation.values():
        keys.update(definition.events)
        if definition.monthly is not None:
            keys.update(definition.monthly.events)
    return keys


SERIES_KEY = re.compile(r"^([a-z][a-z0-9_]*)\.(\d{4}-\d{2})((?:\.[a-z][a-z0-9_]*)?)$")


def _series(events: dict[str, list[Event]]) -> dict[str, list[tuple[str, Event]]]:
    """A monthly series' events by template key: ``notice_of_alteration.determination`` ->
    [("2027-01", the January event), ...]."""
    found: dict[str, list[tuple[str, Event]]] = {}
    for key, copies in events.items():
        match = SERIES_KEY.match(key)
        if match:
            head, month, tail = match.groups()
            found.setdefault(head + tail, []).extend((month, e) for e in copies)
    return found


def _check(tasks: dict[str, tuple[TaskDef, str]], event_keys: set[str]) -> None:
    """Dependencies name known tasks and form no cycle; no task shares a name with an event;
    every task is counted from polling day, an event some definition has, or another task."""
    known = ", ".join(sorted(tasks))
    every_event = known_events() | event_keys
    for key, (task, _) in tasks.items():
        if key in every_event:
            raise OverlayError(f"task '{key}' has the name of a statutory event: rename the task")
        unknown = [d for d in task.depends_on if d not in tasks]
        if unknown:
            raise OverlayError(
                f"task '{key}' depends on unknown task(s) {', '.join(unknown)}: tasks are {known}"
            )
        if getattr(task.due, "date", None) is not None:
            raise OverlayError(
                f"task '{key}' is due on a fixed date: a task is due counting from 'poll', a "
                f"statutory event or another task (before/after with working_days, days or months)"
            )
        anchor = task.due.anchor
        if anchor != "poll" and anchor not in tasks and anchor not in every_event:
            raise OverlayError(
                f"task '{key}' is due counting from '{anchor}', which is neither 'poll', a statutory "
                f"event nor a task: tasks are {known}"
            )
    state: dict[str, int] = {}

    def visit(key: str, path: tuple[str, ...]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = path[path.index(key) :] + (key,)
            raise OverlayError(f"tasks depend on each other in a cycle: {' -> '.join(cycle)}")
        state[key] = 1
        for dep in tasks[key][0].depends_on:
            visit(dep, path + (key,))
        state[key] = 2

    for key in tasks:
        visit(key, ())


def _schedule_order(tasks: dict[str, tuple[TaskDef, str]]) -> list[str]:
    """Tasks so that a task counted from another comes after it."""
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(key: str, path: tuple[str, ...]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            loop = path[path.index(key) :] + (key,)
            raise OverlayError(f"tasks are due counting from each other in a loop: {' -> '.join(loop)}")
        state[key] = 1
        anchor = tasks[key][0].due.anchor
        if anchor in tasks:
            visit(anchor, path + (key,))
        state[key] = 2
        order.append(key)

    for key in tasks:
        visit(key, ())
    return order


def _count(cal: Calendar, day: dt.date, spec) -> dt.date:
    sign = spec.sign
    if spec.working_days is not None:
        n = spec.working_days
        return cal.working_days_before(day, n) if sign < 0 else cal.working_days_after(day, n)
    if spec.days is not None:
        moved = day + dt.timedelta(days=sign * spec.days)
    else:
        moved = add_months(day, sign * spec.months)
    return cal.roll_forward(moved) if spec.roll_forward else moved


def plan_work(tt: Timetable, overlay: Overlay | None = None) -> list[PlannedTask]:
    """Every task of the catalogue (as the overlay changes it) that applies to the poll."""
    first = tt.elections[0]
    cal = registry.get(plan_for(first.kind, first.nation, tt.registration_year).poll_calendar)
    calendars: dict[str, Calendar] = {}

    def calendar_for(key: str, spec) -> Calendar:
        """The calendar a task counts in: the poll's own, or the one its 'calendar' names."""
        if spec.calendar is None:
            return cal
        if spec.calendar not in calendars:
            definition = definitions().get(first.kind, first.nation)
            try:
                calendars[spec.calendar] = registry.get(
                    _calendar_id(definition, first.nation, spec.calendar, f"task '{key}'")
                )
            except DefinitionError as exc:
                raise OverlayError(str(exc)) from exc
        return calendars[spec.calendar]

    events: dict[str, list[Event]] = {}
    for event in tt.events:
        events.setdefault(event.key, []).append(event)
    series = _series(events)
    tasks = apply_overlay(catalogue(tt), overlay)
    _check(tasks, set(events) | set(series))
    planned: dict[str, list[PlannedTask]] = {}
    months: dict[str, str] = {}  # a monthly task's key -> its month (YYYY-MM)
    moved: set[str] = set()  # tasks the overlay places: its own, and those counted from them
    serving = tuple(e.election_id for e in tt.elections) if tt.combined else ()
    called = called_at(events)
    for key in _schedule_order(tasks):
        task, source = tasks[key]
        anchor = task.due.anchor
        if source == "overlay" or anchor in moved:
            moved.add(key)
        # (election id or None, the anchor's day, the anchor's time if counted on its own day,
        # the month of a monthly series or None)
        if anchor == "poll":
            starts = [(None, tt.poll_date, None, None)]
        elif anchor in events:
            starts = [(e.election_id, e.date, e.time, None) for e in events[anchor]]
        elif anchor in series:  # one task per month of the series
            starts = [(e.election_id, e.date, e.time, month) for month, e in series[anchor]]
        elif anchor in planned:
            starts = [(p.election_id, p.due.date(), p.due.time(), months.get(p.key)) for p in planned[anchor]]
        else:
            continue  # counted from an event (or task) that does not apply to this poll
        if task.shared and len(starts) > 1 and all(s[3] is None for s in starts):
            # Once for the poll: after every election's copy of the anchor, or before the first.
            pick = max if task.due.sign > 0 else min
            _, day, at, _ = pick(starts, key=lambda s: (s[1], s[2] or dt.time(0)))
            starts = [(None, day, at, None)]
        copies = []
        for election_id, day, at, month in starts:
            due_day = _count(calendar_for(key, task.due), day, task.due)
            due_time = task.time or (at if at and task.due.count_is_zero() else DEFAULT_DUE_TIME)
            due = dt.datetime.combine(due_day, due_time, tzinfo=LONDON)
            description = task.description
            if called is not None and due < called:
                # No work is due before a poll called at short notice was called (short_notice.py).
                due = called
                description = " ".join(filter(None, [description, SHORT_NOTICE]))
            # One copy per election where the anchor has one per election; a copy counted from
            # an event only one election of a combined poll has belongs to that election.
            scoped = election_id is not None and len(starts) > 1 and month is None
            owned_by = election_id if tt.combined else None
            copy_key = f"{key}:{election_id}" if scoped else key
            title, event_key = task.title, task.event
            if month is not None:
                copy_key = f"{key}.{month}"
                months[copy_key] = month
                title = f"{title} ({dt.date.fromisoformat(month + '-01'):%B %Y})"
                if event_key in series:
                    head, _, tail = event_key.partition(".")
                    event_key = f"{head}.{month}" + (f".{tail}" if tail else "")
            copies.append(
                PlannedTask(
                    key=copy_key,
                    task=key,
                    title=title,
                    description=description,
                    owner_role=task.owner,
                    due=due,
                    anchor=anchor,
                    event_key=event_key,
                    election_id=owned_by,
                    depends_on=(),
                    reminders=_reminders(cal, due, task.reminders),
                    needs_signoff=task.signoff,
                    source=source,
                    cites=task.source,
                    serves=serving if task.shared and election_id is None else (),
                )
            )
        planned[key] = copies
    # Dependencies, once every task is placed: a task waits for the copies of each task it
    # depends on (the same election's copy, where both have one per election). A dependency
    # that does not apply to this poll is dropped.
    result = []
    for key, copies in planned.items():
        for copy in copies:
            deps = [
                other.key
                for dep in tasks[key][0].depends_on
                for other in planned.get(dep, ())
                if (copy.election_id is None or other.election_id in (None, copy.election_id))
                and _same_month(months.get(copy.key), months.get(other.key))
            ]
            result.append(replace(copy, depends_on=tuple(deps), description=_serving(copy)))
    _check_order(result, moved)
    return result


def _serving(task: PlannedTask) -> str | None:
    if not task.serves:
        return task.description
    names = " and ".join(task.serves)
    return " ".join(filter(None, [task.description, f"Done once for the combined poll: serves {names}."]))


def _check_order(planned: list[PlannedTask], moved: set[str]) -> None:
    """Refuse an overlay that makes work due before work it waits for. The catalogue's own order
    is kept by its tests; a date the Returning Officer sets may move its work as the law allows."""
    by_key = {p.key: p for p in planned}
    for task in planned:
        for dep in (by_key[d] for d in task.depends_on):
            if dep.due > task.due and (task.task in moved or dep.task in moved):
                raise OverlayError(
                    f"the overlay makes '{task.key}' due {task.due:%a %d %b %Y %H:%M}, before "
                    f"'{dep.key}' (due {dep.due:%a %d %b %Y %H:%M}), which it depends on: move one "
                    f"of them or drop the dependency"
                )


def _same_month(mine: str | None, theirs: str | None) -> bool:
    """A monthly task waits for the same month's copy of another monthly task."""
    return mine is None or theirs is None or mine == theirs


def _reminders(cal: Calendar, due: dt.datetime, days_before: list[int]) -> tuple:
    out = []
    for n in sorted(set(days_before), reverse=True):
        if n == 0:
            # 08:00, or an hour before work due earlier than 09:00 (never the day before).
            start = dt.datetime.combine(due.date(), dt.time(0, 0), tzinfo=LONDON)
            at = dt.datetime.combine(due.date(), ON_THE_DAY_TIME, tzinfo=LONDON)
            out.append(("on the day", max(start, min(at, due - dt.timedelta(hours=1)))))
        else:
            day = cal.working_days_before(due.date(), n)
            label = f"{n} working day{'s' if n > 1 else ''} before"
            out.append((label, dt.datetime.combine(day, REMINDER_TIME, tzinfo=LONDON)))
    return tuple(out)
