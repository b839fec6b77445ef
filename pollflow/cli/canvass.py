"""``pollflow canvass``: the annual canvass as work.

  plan      plan a registration year (and import a progress report with --progress)
  import    import the EMS's property-level canvass progress report (CSV)
  report    this week's progress: by route, what needs doing (--chart FILE.png; --send)
  list      the properties behind a need, for a walk list (--need visits --district AB --format csv)
  imports   the progress reports imported so far (the audit trail of the figures)
  defer     the ERO publishes the revised register by 1 February (a poll falls in the canvass)
  undefer   ... or by 1 December after all

Commands that only read (report without --send, list, imports) never start Prefect. Commands that
change the store check their input first, so a bad file or id is one line and exit 2.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import (
    NationOption,
    SetOption,
    actor,
    console,
    parse_date,
    parse_sets,
    store_session,
)
from pollflow.cli.work import print_planned
from timetables.errors import PollflowError

canvass_app = typer.Typer(
    help="The annual canvass: plan the registration year, import EMS progress, report, defer.",
    no_args_is_help=True,
)
app.add_typer(canvass_app, name="canvass")

CanvassId = Annotated[str, typer.Argument(help="the registration year, e.g. canvass.2027")]
ByOption = Annotated[str | None, typer.Option("--by", help="who is doing it (email, for the audit trail)")]
TodayOption = Annotated[
    str | None,
    typer.Option("--today", help="as if today were this day (YYYY-MM-DD; for demos and rehearsals)"),
]


def _check_file(path: Path, report_date: dt.date | None, today: dt.date | None, year: int | None):
    """Read and check the whole file here, with a progress bar, before Prefect starts."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from store.canvass.progress import read_progress

    if not path.exists():
        raise PollflowError(f"{path} does not exist")
    out = console()
    with Progress(
        TextColumn("Checking {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines"),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    ) as progress:
        task = progress.add_task(path.name, total=None)
        return read_progress(
            path,
            report_date=report_date,
            today=today,
            year=year,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


@canvass_app.command("plan")
def plan(
    canvass_id: CanvassId,
    nation: NationOption = None,
    set_: SetOption = None,
    overlay: Annotated[
        Path | None, typer.Option(help="a council's YAML changes to the work catalogue")
    ] = None,
    progress: Annotated[Path | None, typer.Option(help="an EMS progress report to import too (CSV)")] = None,
    report_date: Annotated[
        str | None, typer.Option(help="the day the progress report describes, if the file does not say")
    ] = None,
    by: ByOption = None,
    today: TodayOption = None,
) -> None:
    """Plan a registration year into work items and reminders (and import a progress report)."""
    from pollflow.runtime import run_flow
    from tasks.planning import plan_registration_year

    # Computed (and the file checked) here, before Prefect starts, so that bad input is one line
    # at once; the flow stores this plan rather than computing it again.
    overrides = parse_sets(set_)
    checked = plan_registration_year(canvass_id, nation[0] if nation else None, overrides, overlay)
    day, now = parse_date(report_date, "--report-date"), parse_date(today, "--today")
    if progress is not None:
        _check_file(progress, day, now, checked.timetable.registration_year)
    out = console()
    result = run_flow(
        "run_canvass:run_canvass",
        out,
        canvass_id=canvass_id,
        nation=nation[0] if nation else None,
        overrides=overrides,
        overlay=checked.overlay,
        progress_file=str(progress.resolve()) if progress else None,
        report_date=day,
        actor=actor(by, "run-canvass", permission="plan"),
        today=now,
        plan=checked,
    )
    print_planned(result)
    for offer in result["deferral"]:
        out.print(f"Deferral of the revised register: {offer['kind']}.")
    if "import" in result:
        _print_import(result["import"])


def _print_import(outcome: dict) -> None:
    out = console()
    status = outcome["status"]
    if status == "already imported":
        out.print(
            f"Already imported: this file is the report as at {outcome['report_date']} "
            f"({outcome['properties']:,} properties). Nothing changed."
        )
        return
    out.print(
        f"Imported {outcome['properties']:,} properties, report as at {outcome['report_date']} ({status})."
    )
    if status == "superseded":
        out.print(
            "[yellow]A newer report is already imported:[/yellow] this one is kept for the record and the "
            "trend, and changes nothing else."
        )
    work = outcome["work"]
    if work:
        out.print(
            "Follow-up work: "
            + ", ".join(f"{len(work[k])} {k}" for k in ("raised", "updated", "reopened", "closed"))
            + f", {work['unchanged']} unchanged."
        )
    for note in outcome.get("notes", []):
        out.print(f"[yellow]note:[/yellow] {note}")


@canvass_app.command("import")
def import_(
    canvass_id: CanvassId,
    file: Annotated[
        Path, typer.Argument(help="the EMS canvass progress report (CSV, one line per property)")
    ],
    report_date: Annotated[
        str | None,
        typer.Option(help="the day the report describes, if the file does not say (default today)"),
    ] = None,
    by: ByOption = None,
    today: TodayOption = None,
) -> None:
    """Import a canvass progress report; a file with any bad line is refused whole."""
    from store.canvass import canvass_year, find_canvass

    with store_session() as session:
        year = canvass_year(find_canvass(session, canvass_id))
    day, now = parse_date(report_date, "--report-date"), parse_date(today, "--today")
    parsed = _check_file(file, day, now, year)
    from pollflow.runtime import run_flow

    outcome = run_flow(
        "run_canvass:import_canvass_progress",
        console(),
        canvass_id=canvass_id,
        path=str(file.resolve()),
        report_date=parsed.report_date,
        actor=actor(by, f"import:{file.name}", permission="complete"),
        today=now,
    )
    _print_import(outcome)


@canvass_app.command("report")
def report(
    canvass_id: CanvassId,
    chart: Annotated[Path | None, typer.Option(help="write the chart to this PNG file")] = None,
    districts: Annotated[bool, typer.Option("--districts", help="a line per polling district too")] = False,
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    send: Annotated[
        bool, typer.Option("--send", help="send this week's report to the managers now (once a week)")
    ] = False,
    text: Annotated[
        bool, typer.Option("--text", help="with --send: a text message to managers with a phone")
    ] = False,
    today: TodayOption = None,
) -> None:
    """This week's canvass progress: response rate by route, and what needs doing."""
    from store.canvass import find_canvass
    from store.canvass.report import build_report
    from timetables.clock import LONDON
    from timetables.clock import now as clock

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    if chart is not None and chart.suffix.lower() != ".png":
        raise PollflowError(f"--chart {chart}: the chart is a PNG image: give a file name ending .png")
    day = parse_date(today, "--today") or clock().date()
    with store_session() as session:
        poll = find_canvass(session, canvass_id)
        built = build_report(session, poll)
        if chart is not None:
            from tasks.canvass.chart import render_chart
            from tasks.canvass.messages import headline

            chart.write_bytes(
                render_chart(
                    poll.title,
                    built.report_date,
                    built.figures,
                    built.previous,
                    built.history,
                    headline(built),
                )
            )
    if send:
        from pollflow.runtime import run_flow

        moment = dt.datetime.combine(day, dt.time(9, 0), tzinfo=LONDON) if today else None
        result = run_flow(
            "run_canvass:canvass_report", console(), canvass_id=poll.key, as_of=moment, send=True, text=text
        )
    if format == "json":
        print(
            json.dumps({"poll_key": poll.key, "figures": built.figures, "history": built.history}, indent=2)
        )
    else:
        _print_report(built, day, districts)
    out = console()
    if chart is not None:
        out.print(f"Wrote the chart to {chart}.")
    if send:
        sent = result["reports"].get(poll.key, {})
        delivery = result.get("delivery") or {}
        out.print(
            f"This week's report ({sent.get('week')}): {sent.get('queued', 0)} new messages; "
            f"sent {delivery.get('sent', 0)}, retrying {delivery.get('retrying', 0)}, "
            f"failed {delivery.get('failed', 0)}."
        )
        for error in delivery.get("errors", [])[:5]:
            out.print(f"[yellow]delivery:[/yellow] {error}")


def _print_report(built, today: dt.date, districts: bool) -> None:
    from rich.table import Table

    from store.canvass.rules import NEEDS
    from tasks.canvass.messages import days_left_text, need_rows, route_rows

    out = console()
    age = built.age(today)
    table = Table(
        title=f"Canvass progress: {built.poll.title} ({built.poll.key}), report as at "
        f"{built.report_date:%a %d %b %Y}" + (f" [yellow]({age} days old)[/yellow]" if age > 7 else ""),
        title_justify="left",
    )
    for column in ("Route", "Properties", "Responded", "Outstanding", "Not contacted", "Rate", "Change"):
        table.add_column(column, justify="left" if column == "Route" else "right")
    rows = route_rows(built)
    for row in rows:
        table.add_row(
            row["route"],
            f"{row['properties']:,}",
            f"{row['responded']:,}",
            f"{row['outstanding']:,}",
            f"{row['not_contacted']:,}",
            row["response_rate"],
            row["change"],
            style="bold" if row is rows[-1] else None,
        )
    out.print(table)
    needs = Table(title="What needs doing", title_justify="left")
    for column in ("Need", "Properties", "Overdue", "Due in 7 days", "First due", "Owner"):
        needs.add_column(
            column, justify="right" if column in ("Properties", "Overdue", "Due in 7 days") else "left"
        )
    for row in need_rows(built):
        overdue = f"[red]{row['overdue']:,}[/red]" if row["overdue"] else "0"
        needs.add_row(
            f"{row['what']} [dim]({row['need']})[/dim]",
            f"{row['properties']:,}",
            overdue,
            f"{row['due_in_7_days']:,}",
            row["first_due"],
            row["owner"],
        )
    out.print(needs)
    electors = built.figures["potential_electors"]
    out.print(
        f"Potential electors found {electors['found']:,}, applied {electors['applied']:,}, "
        f"still to apply {electors['awaiting']:,}. {days_left_text(built)}"
    )
    if districts:
        table = Table(title="By polling district", title_justify="left")
        for column in ("District", "Properties", "Rate", "Route 2 outstanding", *NEEDS):
            table.add_column(column, justify="left" if column == "District" else "right")
        for name, d in built.figures["districts"].items():
            table.add_row(
                name,
                f"{d['properties']:,}",
                f"{d['rate'] * 100:.1f}%",
                f"{d['route2_outstanding']:,}",
                *(str(d.get(k, 0)) for k in NEEDS),
            )
        out.print(table)


@canvass_app.command("list")
def list_(
    canvass_id: CanvassId,
    need: Annotated[
        str | None, typer.Option(help="only this need (follow_ups, visits, invitations, ...)")
    ] = None,
    district: Annotated[str | None, typer.Option(help="only this polling district")] = None,
    format: Annotated[str, typer.Option("--format", help="table or csv")] = "table",
) -> None:
    """The properties behind each need, earliest due first: a walk list for canvassers."""
    from rich.table import Table

    from store.canvass import find_canvass
    from store.canvass.imports import load_properties
    from store.canvass.report import build_report
    from store.canvass.rules import NEEDS, groups_by_need

    if need is not None and need not in NEEDS:
        raise PollflowError(f"unknown need '{need}': needs are {', '.join(NEEDS)}")
    if format not in ("table", "csv"):
        raise PollflowError(f"unknown format '{format}': formats are table, csv")
    with store_session() as session:
        poll = find_canvass(session, canvass_id)
        properties = load_properties(session, poll)
        built = build_report(session, poll, properties)
        props = {p.property_ref: p for p in properties}
    if district is not None and district not in built.figures["districts"]:
        known = ", ".join(built.figures["districts"]) or "none"
        raise PollflowError(f"no polling district '{district}' in the current report: districts are {known}")
    rows = []
    for group in groups_by_need(built.groups, need, district):
        for due, ref in sorted(group.due):
            p = props[ref]
            rows.append(
                {
                    "need": group.need,
                    "district": group.district,
                    "property_ref": ref,
                    "uprn": p.uprn or "",
                    "route": p.route,
                    "due": due.isoformat(),
                    "overdue": "yes" if due < built.report_date else "",
                    "first_contact": p.first_contact.isoformat() if p.first_contact else "",
                    "contacts": p.contacts,
                    "potential_electors": p.potential_electors - p.applications,
                }
            )
    if format == "csv":
        from store.exports import dict_writer

        # A walk list carries addresses' references and notes typed elsewhere: no formulas.
        writer = dict_writer(sys.stdout, fieldnames=list(rows[0]) if rows else ["need"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    table = Table(title=f"{len(rows)} properties needing work, report as at {built.report_date:%a %d %b %Y}")
    for column in ("Need", "District", "Property", "UPRN", "Route", "Due", "First contact", "Contacts"):
        table.add_column(column)
    for row in rows:
        due = f"[red]{row['due']}[/red]" if row["overdue"] else row["due"]
        table.add_row(
            row["need"],
            row["district"],
            row["property_ref"],
            row["uprn"],
            str(row["route"]),
            due,
            row["first_contact"],
            str(row["contacts"]),
        )
    console().print(table)


@canvass_app.command("imports")
def imports(canvass_id: CanvassId) -> None:
    """The progress reports imported, newest first: who, when, which file, and the figures."""
    from rich.table import Table
    from sqlalchemy import select

    from store.canvass import find_canvass
    from store.models.canvass import CanvassImport
    from timetables.clock import local

    with store_session() as session:
        poll = find_canvass(session, canvass_id)
        rows = session.scalars(
            select(CanvassImport)
            .where(CanvassImport.poll_id == poll.id)
            .order_by(CanvassImport.report_date.desc(), CanvassImport.imported_at.desc())
        ).all()
    table = Table(title=f"Progress reports imported: {poll.title} ({poll.key})", title_justify="left")
    for column in ("Report as at", "Status", "File", "Properties", "Rate", "Imported", "By"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.report_date.isoformat(),
            r.status,
            r.filename,
            f"{r.properties:,}",
            f"{r.figures['routes']['all']['rate'] * 100:.1f}%",
            f"{local(r.imported_at):%d %b %Y %H:%M}",
            r.imported_by,
        )
    console().print(table)


@canvass_app.command("defer")
def defer(
    canvass_id: CanvassId,
    by: Annotated[
        str | None,
        typer.Option("--by", help="you, the Electoral Registration Officer (optional: the token says)"),
    ] = None,
    publish_on: Annotated[
        str | None,
        typer.Option(help="the day to publish, after 1 December and by 1 February (default 1 February)"),
    ] = None,
) -> None:
    """Publish the revised register by 1 February: a poll falls in the canvass period."""
    _decide(canvass_id, by, parse_date(publish_on, "--publish-on"), undo=False)


@canvass_app.command("undefer")
def undefer(
    canvass_id: CanvassId,
    by: Annotated[
        str | None,
        typer.Option("--by", help="you, the Electoral Registration Officer (optional: the token says)"),
    ] = None,
) -> None:
    """Publish the revised register by 1 December after all."""
    _decide(canvass_id, by, None, undo=True)


def _decide(canvass_id: str, by: str | None, publish_on: dt.date | None, undo: bool) -> None:
    from store.canvass.deferral import check_deferral, check_undeferral

    by = actor(by, named="deciding when the revised register is published")  # the store checks the ERO

    with store_session() as session:  # refuse at once, before Prefect starts
        if undo:
            check_undeferral(session, canvass_id, by)
        else:
            check_deferral(session, canvass_id, by, publish_on)
    from pollflow.runtime import run_flow

    out = console()
    result = run_flow(
        "run_canvass:canvass_defer", out, canvass_id=canvass_id, by=by, publish_on=publish_on, undo=undo
    )
    if undo:
        out.print(
            f"{result['poll_key']}: the revised register is due by 1 December again "
            f"(decided by {result['by']})."
        )
    else:
        polls = ", ".join(p["poll_key"] for p in result["polls"])
        out.print(
            f"{result['poll_key']}: the revised register is deferred to {result['to']} because of {polls} "
            f"(decided by {result['by']})."
        )
    moved = result["events_moved"] + result["work_moved"]
    out.print(
        f"{len(result['events_moved'])} statutory events and {len(result['work_moved'])} work items moved."
    )
    for m in moved[:40]:
        out.print(f"  {m['key']}: {m['from'][:10]} -> {m['to'][:10]}")
    for warning in result["warnings"]:
        out.print(f"[yellow]warning:[/yellow] {warning}")


@canvass_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="the EMS canvass progress report (CSV)")],
    report_date: Annotated[
        str | None, typer.Option(help="the day the report describes, if the file does not say")
    ] = None,
    problems: Annotated[
        Path | None, typer.Option(help="write every problem to this CSV file (line, problem)")
    ] = None,
    today: TodayOption = None,
) -> None:
    """Check a progress report without importing it: every problem, line by line."""
    from rich.table import Table

    from store.canvass.progress import CanvassFileError

    try:
        parsed = _check_file(
            file, parse_date(report_date, "--report-date"), parse_date(today, "--today"), None
        )
    except CanvassFileError as exc:
        rows = [p.split(": ", 1) for p in exc.problems]
        if problems is not None:
            from store.exports import csv_writer, open_private

            with open_private(problems) as handle:
                writer = csv_writer(handle)
                writer.writerow(["line", "problem"])
                writer.writerows([[line.removeprefix("line "), text] for line, text in rows])
        table = Table(
            title=f"{file}: {len(exc.problems)} problems on {len(exc.lines)} lines", title_justify="left"
        )
        table.add_column("Line", justify="right")
        table.add_column("Problem")
        for line, text in rows[:500]:
            table.add_row(line.removeprefix("line "), text)
        out = console()
        out.print(table)
        if len(rows) > 500:
            out.print(
                f"... and {len(rows) - 500} more" + (f": all of them are in {problems}" if problems else "")
            )
        raise PollflowError(
            f"{file}: {len(exc.problems)} problems on {len(exc.lines)} lines: it would not be imported"
        ) from exc
    console().print(
        f"{file}: {len(parsed.rows):,} properties, report as at {parsed.report_date.isoformat()}: "
        "no problems."
    )
    for note in parsed.notes:
        console().print(f"[yellow]note:[/yellow] {note}")
