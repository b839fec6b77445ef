"""Polling districts, places and stations from the EMS, and their electorates:
``pollflow stations import|electorate|list``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import ReportOption, SkipOption, actor, console, refused, skipped, store_session
from timetables.errors import PollflowError

stations_app = typer.Typer(help="Polling places and stations, from the EMS.", no_args_is_help=True)
app.add_typer(stations_app, name="stations")

ByOption = Annotated[str | None, typer.Option("--by", help="who is doing this (for the audit trail)")]


@stations_app.command("import")
def stations_import(
    file: Annotated[Path, typer.Argument(help="an EMS export (CSV) or pollflow's layout (CSV or .xlsx)")],
    format: Annotated[
        str | None,
        typer.Option(
            "--format", help="xpress, eros, democracy-counts or pollflow (default: from the columns)"
        ),
    ] = None,
    skip_bad_rows: SkipOption = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="stations not in the file stop being used (a whole-area export)")
    ] = False,
    report: ReportOption = None,
    by: ByOption = None,
) -> None:
    """Import polling districts, places and stations, with electorates. A file with a bad row is
    refused whole, every bad row named (or --skip-bad-rows)."""
    from store.staff.config import staffing_rules
    from store.staff.stations import read_stations, save_stations
    from store.tables import ImportRefused

    try:
        parsed = read_stations(file, format, skip_bad_rows, staffing_rules().stations.max_electors)
    except ImportRefused as exc:
        refused(exc, report)
        raise
    out = console()
    with store_session() as session:
        result = save_stations(
            session, parsed, actor(by, permission="manage_staff") + f" (import {file.name})", replace=replace
        )
    out.print(
        f"{file.name} ({parsed.format}, {parsed.rows} rows): {len(parsed.stations)} stations: "
        f"{len(result.added)} added, {len(result.updated)} updated, {result.unchanged} unchanged"
        + (
            f", {len(result.deactivated)} no longer used ({', '.join(result.deactivated)})"
            if result.deactivated
            else ""
        )
        + "."
    )
    skipped(out, parsed.skipped, report)
    for warning in parsed.warnings:
        out.print(f"[yellow]warning:[/yellow] {warning}")


@stations_app.command("electorate")
def stations_electorate(
    file: Annotated[
        Path, typer.Argument(help="CSV or .xlsx: station (or district), electorate, postal_voters")
    ],
    skip_bad_rows: SkipOption = False,
    report: ReportOption = None,
    by: ByOption = None,
) -> None:
    """Set electorates (and postal voters) from the EMS's electorate report, by station or district."""
    from store.staff.stations import read_electorates, save_electorates
    from store.tables import ImportRefused

    with store_session() as session:
        try:
            parsed = read_electorates(session, file, skip_bad_rows)
        except ImportRefused as exc:
            refused(exc, report)
            raise
        changed = save_electorates(session, parsed, actor(by, permission="manage_staff"))
    out = console()
    out.print(f"Electorates for {len(parsed.by_station)} stations: {len(changed)} changed.")
    skipped(out, parsed.skipped, report)


@stations_app.command("list")
def stations_list(
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    all_: Annotated[bool, typer.Option("--all", help="include stations no longer used")] = False,
) -> None:
    """The polling stations, with electorates and the staff each needs."""
    from sqlalchemy import select

    from store.models.staff import PollingStation
    from store.staff.config import staffing_rules

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    rules = staffing_rules()
    with store_session() as session:
        query = select(PollingStation).order_by(PollingStation.code)
        if not all_:
            query = query.where(PollingStation.active)
        stations = session.scalars(query).all()
        rows = []
        for s in stations:
            in_person = s.electorate
            if in_person is not None and rules.stations.exclude_postal_voters and s.postal_voters:
                in_person = max(in_person - s.postal_voters, 0)
            need = rules.station_posts(in_person) if in_person is not None else None
            rows.append(
                {
                    "code": s.code,
                    "name": s.name,
                    "address": s.address,
                    "postcode": s.postcode,
                    "area": s.area,
                    "districts": s.districts,
                    "electorate": s.electorate,
                    "postal_voters": s.postal_voters,
                    "easting": s.easting,
                    "northing": s.northing,
                    "need": need,
                    "active": s.active,
                    "source": s.source,
                }
            )
    if format == "json":
        print(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"Polling stations ({len(rows)})")
    for column in ("Code", "Station", "Postcode", "Area", "Districts", "Electorate", "Postal", "Staff"):
        table.add_column(column, justify="right" if column in ("Electorate", "Postal") else "left")
    for r in rows:
        need = r["need"]
        table.add_row(
            r["code"],
            r["name"],
            r["postcode"] or "",
            r["area"] or "",
            r["districts"],
            f"{r['electorate']:,}" if r["electorate"] is not None else "[yellow]unknown[/yellow]",
            f"{r['postal_voters']:,}" if r["postal_voters"] is not None else "",
            f"PO + {need.get('poll-clerk', 0)} clerks" if need else "",
        )
    console().print(table)
