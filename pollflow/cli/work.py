"""The ``pollflow`` commands for planned work: plan, people, tasks, done, check, replan, audit,
ics, db, outbox and serve. Commands that only read never import Prefect."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.audit_verify import audit_app
from pollflow.cli.options import (
    KindOption,
    NationOption,
    SetOption,
    actor,
    console,
    parse_duration,
    parse_moment,
    parse_sets,
    store_session,
)
from timetables.errors import PollflowError

people_app = typer.Typer(help="The people who do the work, and their roles.", no_args_is_help=True)
db_app = typer.Typer(help="The store's schema.", no_args_is_help=True)
app.add_typer(people_app, name="people")
app.add_typer(db_app, name="db")


@app.command()
def plan(
    election_ids: Annotated[list[str], typer.Argument(help="election ids polled on one day")],
    nation: NationOption = None,
    kind: KindOption = None,
    set_: SetOption = None,
    overlay: Annotated[
        Path | None, typer.Option(help="a council's YAML changes to the work catalogue")
    ] = None,
    by: Annotated[str | None, typer.Option(help="who is planning (for the audit trail)")] = None,
) -> None:
    """Plan a poll: store its timetable, work items assigned by role, and reminders."""
    from pollflow.runtime import run_flow
    from tasks.planning import plan_poll

    who = actor(by, "plan", permission="plan")
    # Computed here, before Prefect starts, so that a bad id, date or overlay is one line at once;
    # the flow stores this plan rather than computing it again.
    overrides = parse_sets(set_)
    checked = plan_poll(election_ids, nation, kind, overrides, overlay)
    result = run_flow(
        "plan_election:plan_election",
        console(),
        election_ids=election_ids,
        nation=nation,
        kind=kind,
        overrides=overrides,
        overlay=checked.overlay,
        actor=who,
        plan=checked,
    )
    print_planned(result)


def print_planned(result: dict) -> None:
    """What a planning run did (plan_election's or run_canvass's summary), in a few lines."""
    out = console()
    verb = "Planned" if result["poll_created"] else "Replanned" if result["changed"] else "Unchanged"
    out.print(
        f"{verb} {result['poll_key']}: {result['events']} statutory events, "
        f"{result['work_items']} work items, {result['reminders']} reminders."
    )
    if result["unassigned"]:
        out.print(f"[yellow]No one holds the role for:[/yellow] {', '.join(result['unassigned'])}")
    for warning in result["warnings"]:
        out.print(f"[yellow]warning:[/yellow] {warning}")


@people_app.command("import")
def people_import(
    file: Annotated[Path, typer.Argument(help="CSV: name, email, phone, roles")],
) -> None:
    """Add or update people from a CSV file; a file with any bad row is refused whole."""
    from store.people import read_people_csv, save_people

    rows = read_people_csv(file)
    with store_session() as session:
        result = save_people(session, rows, actor=actor(None, f"import:{file.name}", permission="administer"))
    console().print(
        f"{len(rows)} people: {result.added} added, {result.updated} updated, {result.unchanged} unchanged."
    )


@people_app.command("list")
def people_list() -> None:
    """Everyone, with their roles."""
    from rich.table import Table
    from sqlalchemy import select

    from store.models import Person, PersonRole

    table = Table(title="People")
    for column in ("Name", "Email", "Phone", "Roles"):
        table.add_column(column)
    with store_session() as session:
        roles: dict[int, list[str]] = {}
        for role in session.scalars(select(PersonRole)).all():
            roles.setdefault(role.person_id, []).append(role.role)
        for person in session.scalars(select(Person).order_by(Person.name)).all():
            table.add_row(
                person.name,
                person.email,
                person.phone or "",
                ", ".join(sorted(roles.get(person.id, []))),
            )
    console().print(table)


@app.command()
def tasks(
    person: Annotated[str | None, typer.Option(help="only this person's work (email)")] = None,
    election: Annotated[str | None, typer.Option(help="only this election's work")] = None,
    due: Annotated[str | None, typer.Option(help="only work due within, e.g. 7d")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only overdue work")] = False,
    format: Annotated[str, typer.Option("--format", help="table, json or xlsx")] = "table",
    output: Annotated[Path | None, typer.Option(help="file for --format xlsx")] = None,
    as_of: Annotated[str | None, typer.Option(help="as if it were this time")] = None,
) -> None:
    """Open work, soonest first: owners, due dates, what each waits for."""
    from store import queries
    from timetables.clock import local

    if format not in ("table", "json", "xlsx"):
        raise PollflowError(f"unknown format '{format}': formats are table, json, xlsx")
    if format == "xlsx" and output is None:
        raise PollflowError("--format xlsx needs --output FILE.xlsx")
    moment = parse_moment(as_of)
    window = parse_duration(due) if due else None
    with store_session() as session:
        rows = queries.tasks(
            session,
            person=person,
            election=election,
            due_within=window,
            overdue=overdue,
            as_of=moment,
        )
        if format == "json":
            print(json.dumps([r.to_dict() for r in rows], indent=2))
            return
        if format == "xlsx":
            from pollflow.output.workbook import write_plan

            polls = {r.poll.id: r.poll for r in rows}
            if election:
                poll = queries.find_poll(session, election)
                polls[poll.id] = poll
            path = write_plan(
                output, [(p, queries.timetable(session, p)) for p in polls.values()], rows, moment
            )
            console().print(f"Wrote {path}: {len(rows)} work items.")
            return
        from rich.table import Table

        table = Table(title=f"Open work ({len(rows)} items) as of {local(moment):%a %d %b %Y %H:%M}")
        for column in ("Id", "Due", "Work", "Owner", "Election", "Waiting for"):
            table.add_column(column)
        for r in rows:
            due_at = local(r.item.due_at)
            late = r.item.due_at <= moment
            table.add_row(
                str(r.item.id),
                f"{'[red]' if late else ''}{due_at:%a %d %b %H:%M}{'[/red]' if late else ''}",
                r.item.title + (" [cyan](sign-off)[/cyan]" if r.item.needs_signoff else ""),
                r.owner.email if r.owner else "[yellow]unassigned[/yellow]",
                r.item.election_id or r.poll.key,
                ", ".join(r.blocked_by),
            )
        console().print(table)


@app.command()
def done(
    task: Annotated[str, typer.Argument(help="the work item's id or key")],
    by: Annotated[str | None, typer.Option("--by", help="you (optional: the token says who you are)")] = None,
    note: Annotated[str | None, typer.Option(help="a note for the audit trail")] = None,
    election: Annotated[str | None, typer.Option(help="the election, where a key is ambiguous")] = None,
) -> None:
    """Record work as done, as the person POLLFLOW_TOKEN belongs to; tell the owners of what it
    unblocks. One transaction, without starting Prefect."""
    from store.identity.roles import may_complete, permissions_of, require
    from store.people import find_person
    from store.queries import find_work_item
    from tasks.messaging.delivery import deliver_outbox
    from tasks.work import complete_work

    who = actor(by, named="completing work", permission="complete")
    out = console()
    with store_session() as session:
        item, person = find_work_item(session, task, election), find_person(session, who)
        if not may_complete(permissions_of(session, person), person.id, item):
            require(session, person, "complete_others")  # someone else's work: says what is missing
        result = complete_work(session, task, who, note, election)
    if result["already_done"]:
        out.print(f"{result['key']} was already done.")
        return
    out.print(f"Done: {result['title']} ({result['key']}), by {result['by']}.")
    from pollflow.announce import announce

    ids = result.pop("election_ids")
    key = f"pollflow.workitem.{result['work_item_id']}"
    announce("pollflow.workitem.completed", key, ids, result, result["title"], background=False)
    if result["unblocked"]:
        out.print(f"Now ready: {', '.join(result['unblocked'])}")
        report = deliver_outbox()  # the owners of what is now ready hear at once
        if report.failed or report.retrying:
            out.print(f"[yellow]delivery:[/yellow] {report.summary()}")


@app.command()
def check(
    as_of: Annotated[str | None, typer.Option(help="check as if it were this time")] = None,
    simulate: Annotated[
        bool, typer.Option(help="with a future --as-of: act as if it were then (a rehearsal store only)")
    ] = False,
) -> None:
    """Queue due reminders, overdue and missed-deadline alerts (each once), and deliver them.

    A future --as-of only shows what would be sent, and changes nothing: acting on it would mark
    reminders as sent that are not yet due. --simulate acts all the same, for rehearsals."""
    from pollflow.runtime import run_flow
    from timetables.clock import now

    out = console()
    moment = parse_moment(as_of) if as_of else None
    if moment is not None and moment > now() and not simulate:
        _preview(out, moment)
        return
    summary = run_flow("check_deadlines:check_deadlines", out, as_of=moment)
    delivery = summary.get("delivery", {})
    out.print(
        f"Reminders {summary['reminders']}, overdue {summary['overdue']}, missed statutory "
        f"deadlines {summary['missed_statutory_deadlines']}, unassigned {summary['unassigned']}: "
        f"{summary['messages_queued']} new messages; sent {delivery.get('sent', 0)}, "
        f"retrying {delivery.get('retrying', 0)}, failed {delivery.get('failed', 0)}."
        + _policy_note(delivery)
    )
    for error in delivery.get("errors", [])[:5]:
        out.print(f"[yellow]delivery:[/yellow] {error}")


def _policy_note(delivery: dict) -> str:
    """What the alert policy did before sending (tasks/messaging/gather.py), where it did anything."""
    parts = {
        "gathered": "{} gathered into one message for each person",
        "held": "{} waiting for quiet hours or the gathering window to end",
        "to_digest": "{} left to the morning digest of those who chose it",
    }
    said = [text.format(delivery[key]) for key, text in parts.items() if delivery.get(key)]
    return f" Of the messages due: {'; '.join(said)}." if said else ""


def _preview(out, moment: dt.datetime) -> None:
    """What a check at ``moment`` would queue, worked out in a transaction that is rolled back."""
    from sqlmodel import Session

    from store.db import get_engine
    from tasks.messaging.alerts import scan
    from timetables.clock import local

    with Session(get_engine()) as session:
        result = scan(session, moment)
        session.rollback()  # nothing is kept: not the messages, the alerts' marks or the audit
    out.print(
        f"As at {local(moment):%a %d %b %Y %H:%M} a check would queue {result.queued} messages "
        f"(reminders {result.reminders}, overdue {result.overdue}, missed statutory deadlines "
        f"{result.missed}). Nothing was sent or changed: that time is still to come "
        "(--simulate acts as if it were then, for a rehearsal store)."
    )


@app.command()
def replan(
    election_id: Annotated[str, typer.Argument(help="a planned election (or poll) id")],
    poll_date: Annotated[str | None, typer.Option(help="the new polling day, YYYY-MM-DD")] = None,
    set_: SetOption = None,
    unset: Annotated[list[str] | None, typer.Option(help="forget a date set earlier")] = None,
    by: Annotated[str | None, typer.Option(help="who is replanning (for the audit trail)")] = None,
) -> None:
    """Recompute a planned poll, keeping every date set by hand; tell owners what moved."""
    from pollflow.runtime import run_flow
    from tasks.planning import replan_poll

    who = actor(by, "replan", permission="plan")
    day = None
    if poll_date:
        try:
            day = dt.date.fromisoformat(poll_date)
        except ValueError as exc:
            raise PollflowError(f"--poll-date '{poll_date}' is not YYYY-MM-DD") from exc
    # Read and computed here, before Prefect starts, so that bad input is one line at once; the
    # flow stores this plan rather than reading the store and computing it again.
    overrides = parse_sets(set_)
    checked = replan_poll(election_id, day, overrides, unset or [])
    out = console()
    result = run_flow(
        "replan:replan",
        out,
        election_id=election_id,
        poll_date=day,
        overrides=overrides,
        unset=unset or [],
        actor=who,
        plan=checked,
    )
    print_replanned(out, result)


def print_replanned(out, result: dict) -> None:
    """What a replan moved (`pollflow replan`, and `pollflow law amend` for each poll it touches)."""
    moved = result["events_moved"] + result["work_moved"]
    out.print(
        f"Replanned {result['poll_key']}: {len(result['events_moved'])} statutory events and "
        f"{len(result['work_moved'])} work items moved; their owners are told."
    )
    for m in moved[:40]:
        out.print(f"  {m['key']}: {m['from'][:16]} -> {m['to'][:16]}")


@audit_app.command("show")
def audit(
    election_id: Annotated[str, typer.Argument(help="a planned election (or poll) id")],
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Everything done to a poll, by whom and when (append-only)."""
    from store import queries
    from timetables.clock import local

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    with store_session() as session:
        poll = queries.find_poll(session, election_id)
        entries = queries.audit(session, poll)
        if format == "json":
            print(
                json.dumps(
                    [
                        {
                            "id": e.id,
                            "at": local(e.at).isoformat(),
                            "actor": e.actor,
                            "action": e.action,
                            "subject": e.subject,
                            "details": e.details,
                            "flow_run_id": e.flow_run_id,
                        }
                        for e in entries
                    ],
                    indent=2,
                )
            )
            return
        from rich.table import Table

        table = Table(title=f"Audit trail: {poll.title} ({poll.key})")
        for column in ("When", "Who", "What", "Subject", "Details"):
            table.add_column(column)
        for e in entries:
            details = json.dumps(e.details)
            table.add_row(
                f"{local(e.at):%d %b %Y %H:%M:%S}",
                e.actor,
                e.action,
                e.subject or "",
                details if len(details) < 120 else details[:117] + "...",
            )
        console().print(table)


@app.command()
def ics(
    person: Annotated[str, typer.Option(help="whose work (email)")],
    output: Annotated[Path | None, typer.Option(help="write to this file, not stdout")] = None,
    url: Annotated[
        bool, typer.Option("--url", help="print the address Outlook can subscribe to (pollflow web)")
    ] = False,
) -> None:
    """A person's open work as an iCalendar feed, with alarms, for Outlook."""
    from pollflow.output.calendar_feed import person_calendar
    from store import queries
    from store.identity.council import public_address
    from store.people import find_person
    from timetables.clock import now

    with store_session() as session:
        who = find_person(session, person)
        if url:
            from pollflow.web import calendar_url

            console().print(calendar_url(who.email, public_address(session)), soft_wrap=True)
            return
        rows = queries.tasks(session, person=who.email, as_of=now())
        text = person_calendar(who.name, who.email, rows, public_address(session)).to_ical().decode()
    if output:
        from store.exports import write_text

        write_text(output, text)
        console().print(f"Wrote {output}: {len(rows)} work items.")
    else:
        sys.stdout.write(text)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the store's migrations (needed once for a PostgreSQL database)."""
    from store.db import database_url, get_engine, upgrade

    revision = upgrade(get_engine(migrate=False))
    url = database_url()
    console().print(f"Store at {url.split('@')[-1]} is at schema {revision}.")


@app.command()
def web(
    host: Annotated[str, typer.Option(help="where to listen")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="the port")] = 8080,
) -> None:
    """Serve the team's workspace, calendar feeds and the pages people reach through signed links."""
    from pollflow.web import STATIC, serve

    console().print(
        f"pollflow web on http://{host}:{port} (set POLLFLOW_PUBLIC_URL to the address people use)"
    )
    if not (STATIC / "workspace.css").exists():
        console().print("[yellow]warning:[/yellow] the workspace's styles are not built: run `make assets`")
    serve(host, port)
