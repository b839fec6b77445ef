"""The ``pollflow`` command.

Errors on bad input print one line naming what was wrong and what is allowed, and exit 2; nothing
prints a traceback unless ``POLLFLOW_DEBUG=1``. Commands that only read (timetable, kinds, tasks,
audit, ics) import neither Prefect nor the database layer they do not need, so they answer fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from pollflow.cli.options import KindOption, NationOption, SetOption, console, parse_date, parse_sets
from store.identity.acting import Actor, acting_as
from timetables import settings
from timetables.errors import PollflowError

app = typer.Typer(
    name="pollflow",
    help="Statutory election timetables, tracked work, reminders, staff and documents "
    "for UK electoral services teams.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
holidays_app = typer.Typer(help="Bank holidays and days of thanksgiving or mourning.", no_args_is_help=True)
app.add_typer(holidays_app, name="holidays")


@app.command()
def timetable(
    election_ids: Annotated[list[str], typer.Argument(help="Democracy Club election or ballot ids")],
    nation: NationOption = None,
    kind: KindOption = None,
    set_: SetOption = None,
    format: Annotated[str, typer.Option("--format", help="table, json, csv or ics")] = "table",
) -> None:
    """The statutory timetable of a poll, or of several polls combined on one day."""
    from pollflow.output import formats
    from timetables import timetable_for

    if format not in formats.FORMATS:
        raise PollflowError(f"unknown format '{format}': formats are {', '.join(formats.FORMATS)}")
    tt = timetable_for(election_ids, nation=nation, kind=kind, overrides=parse_sets(set_))
    if format == "table":
        formats.render_table(tt, console())
    elif format == "json":
        print(formats.to_json(tt))
    elif format == "csv":
        sys.stdout.write(formats.to_csv(tt))
    else:
        sys.stdout.write(formats.to_ics(tt))
    if format != "table":
        for warning in tt.warnings:
            print(f"warning: {warning}", file=sys.stderr)


@app.command()
def kinds() -> None:
    """The kinds of poll pollflow knows, where they are held, and the law each follows."""
    from rich.table import Table

    from timetables.definitions import definitions

    defs = definitions()
    table = Table(title="Kinds of poll (--kind), by definition file", title_justify="left")
    table.add_column("Kind", no_wrap=True)
    table.add_column("Nations")
    table.add_column("Poll")
    table.add_column("Legislation", style="dim")
    table.add_column("File", style="dim", no_wrap=True)
    for info in sorted(defs.kinds.values(), key=lambda k: k.kind):
        for name in info.files:
            nations = [n for n in info.nations if defs.file_for(info.kind, n) == name]
            definition = defs.get(info.kind, nations[0])
            table.add_row(
                info.kind,
                ", ".join(nations),
                definition.title or info.kind,
                "\n".join(definition.legislation),
                name,
            )
    console().print(table)


@holidays_app.command("status")
def holidays_status() -> None:
    """Which bank-holiday data is in use, the years it covers, and added days of mourning."""
    from timetables.calendars import load_bank_holidays, load_dies_non

    data = load_bank_holidays()
    out = console()
    out.print(f"Bank holidays: {data.source}")
    out.print(
        f"Covers {data.covered_from.isoformat()} to {data.covered_to.isoformat()}; dates after "
        "that are computed from the holidays package and marked provisional."
    )
    extra = load_dies_non()
    if extra:
        out.print("Days of thanksgiving or mourning:")
        for d in extra:
            out.print(f"  {d.date.isoformat()}  {d.name} ({', '.join(d.divisions)})")
    else:
        out.print("No days of thanksgiving or mourning added.")


@holidays_app.command("refresh")
def holidays_refresh(
    url: Annotated[str | None, typer.Option(help="where to fetch GOV.UK's JSON from")] = None,
) -> None:
    """Fetch GOV.UK's current bank holidays and merge them into the data in use."""
    from pollflow.holiday_data import refresh

    report = refresh(url)
    out = console()
    before, after = report.covered_before, report.covered_after
    out.print(f"Saved {report.path}")
    out.print(
        f"Covers {after[0].isoformat()} to {after[1].isoformat()} "
        f"(was {before[0].isoformat()} to {before[1].isoformat()})."
    )
    for division, day, title in report.added:
        out.print(f"  added   {day.isoformat()} {title} ({division})")
    for division, day, title in report.removed:
        out.print(f"  removed {day.isoformat()} {title} ({division})")
    if report.changed:
        out.print("Timetables that count across these days change: run `pollflow replan` for live elections.")
    else:
        out.print("No dates changed.")


@holidays_app.command("add-day")
def holidays_add_day(
    date: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    name: Annotated[str, typer.Option("--name", help="e.g. 'Day of mourning for ...'")],
    division: Annotated[
        list[str] | None,
        typer.Option("--division", help="england-and-wales, scotland, northern-ireland (default: all)"),
    ] = None,
    authority: Annotated[str | None, typer.Option(help="the proclamation or order")] = None,
) -> None:
    """Add a day appointed for public thanksgiving or mourning: it stops the clock."""
    from pollflow.holiday_data import add_day

    day = parse_date(date, "DATE")
    entry = add_day(day, name, division or [], authority)
    console().print(
        f"Added {entry.date.isoformat()} {entry.name} ({', '.join(entry.divisions)}). "
        "Timetables counting across it change: run `pollflow replan` for live elections."
    )


@app.command()
def demo() -> None:
    """A fictional council plans its polls end to end, on embedded defaults (about a minute)."""
    from pollflow.demo import run_demo

    run_demo(console())


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="where Prefect's server listens")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Prefect's port (its UI is the audit dashboard)")] = 4200,
) -> None:
    """Serve every deployment with its schedule and event triggers (and start Prefect's server)."""
    from pollflow.server import serve as run

    run(console(), host, port)


# Each group of commands lives in its own module of this package; importing it registers its
# commands on ``app``. The list is explicit (tests/test_registries.py checks it is complete).
from pollflow.cli import (  # noqa: E402
    audit_verify,
    canvass,
    documents,
    law,
    outbox,
    recruitment,
    staff,
    stations,
    training,
    users,
    work,
)

COMMAND_MODULES = (
    audit_verify,
    canvass,
    documents,
    law,
    outbox,
    recruitment,
    staff,
    stations,
    training,
    users,
    work,
)


def main(argv: list[str] | None = None) -> int:
    """Run the command; turn every error into one readable line."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        # Until a command proves who is acting (options.actor), the machine's shell is.
        with acting_as(Actor.shell()):
            # Outside standalone mode click returns a typer.Exit's code rather than raising it.
            code = command.main(args=args or ["--help"], prog_name="pollflow", standalone_mode=False)
        return code if isinstance(code, int) else 0
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print("pollflow: aborted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:  # usage errors: unknown option, missing argument
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print(f"pollflow: error: {message}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except PollflowError as exc:
        print(f"pollflow: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: still one line unless debugging
        if settings.debug():
            raise
        refused = _database_error(exc)
        if refused is not None:  # one line, never the SQL or the values it carried (names, bank data)
            from store.db import database_refusal

            print(f"pollflow: error: {database_refusal(refused)}", file=sys.stderr)
            return 2
        print(
            f"pollflow: internal error: {type(exc).__name__}: {exc} (set POLLFLOW_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


def _database_error(exc: BaseException | None):
    """The SQLAlchemy error behind an error, if any (a command may wrap it in its own)."""
    seen = 0
    while exc is not None and seen < 10:
        if type(exc).__module__.startswith("sqlalchemy"):
            from sqlalchemy.exc import SQLAlchemyError

            if isinstance(exc, SQLAlchemyError):
                return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
