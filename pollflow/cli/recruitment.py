"""Recruiting and posting staff for a poll: recruit (invite, chase, offer, replace), respond, allocate,
pin and unpin, the staffing table and payroll.

Commands that change state through a flow (recruit, allocate) check their input first, so a
mistake is one line at once, before Prefect starts; the others never import Prefect.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pollflow.cli import app
from pollflow.cli.options import actor, console, find_poll, parse_date, parse_moment, store_session
from timetables.errors import PollflowError

ByOption = Annotated[str | None, typer.Option("--by", help="who is doing this (for the audit trail)")]


@app.command()
def recruit(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id to recruit for")],
    ballot_papers: Annotated[
        int | None, typer.Option(help="ballot papers expected at the count (default: from turnout)")
    ] = None,
    postal_votes: Annotated[
        int | None, typer.Option(help="postal votes expected back (default: from postal voters)")
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option("--area", help="only stations in this electoral area (repeat for more)"),
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="act as if it were this time")] = None,
    by: ByOption = None,
) -> None:
    """Start or advance staff recruitment: invitations, chasers, lapses, replacements from the
    reserve list, offers and training reminders, each sent once."""
    from tasks.staffing import check_recruitable

    for value, name in ((ballot_papers, "--ballot-papers"), (postal_votes, "--postal-votes")):
        if value is not None and value < 0:
            raise PollflowError(f"{name} {value}: give a number of 0 or more")
    with store_session() as session:  # refuse at once, before Prefect starts
        poll = check_recruitable(session, election_id, area)
    from pollflow.runtime import run_flow

    out = console()
    result = run_flow(
        "recruit_staff:recruit_staff",
        out,
        election_id=poll.key,
        as_of=parse_moment(as_of) if as_of else None,
        ballot_papers=ballot_papers,
        postal_votes=postal_votes,
        areas=area,
        actor=actor(by, permission="manage_staff") + " (recruit)",
    )
    r = result["polls"][poll.key]
    replaced = (r["replacements"] or {}).get("assigned", 0)
    out.print(
        f"{poll.key}: {r['posts']} posts ({r['posts_added']} new). Invited {r['invited']}; chased "
        f"{r['chased']['invitations']} invitations and {r['chased']['offers']} offers; lapsed "
        f"{r['lapsed']['invitations']} invitations and {len(r['lapsed']['offers'])} offers; "
        f"{replaced} replacements from the reserve; {r['offers']} offers sent."
    )
    delivery = result.get("delivery") or {}
    out.print(
        f"Messages sent {delivery.get('sent', 0)}, retrying {delivery.get('retrying', 0)}, "
        f"failed {delivery.get('failed', 0)}."
    )
    for warning in r["warnings"]:
        out.print(f"[yellow]warning:[/yellow] {warning}")
    for key in r["surplus_held"]:
        out.print(
            f"[yellow]no longer needed but held:[/yellow] {key} (release it with `pollflow staff withdraw`)"
        )


@app.command()
def respond(
    token: Annotated[str, typer.Argument(help="the token from a person's personal link (or the whole link)")],
    answer: Annotated[str, typer.Argument(help="accept or decline")],
    day: Annotated[
        list[str] | None, typer.Option("--day", help="a day they can work, YYYY-MM-DD (repeat)")
    ] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="a role they will do (repeat)")] = None,
    reason: Annotated[str | None, typer.Option(help="why (a decline or withdrawal)")] = None,
    training: Annotated[
        str | None, typer.Option(help="book this training session (accepting an offer)")
    ] = None,
    by: ByOption = None,
) -> None:
    """Record a person's answer to an invitation or an offer, as the answer page does."""
    from tasks.staffing import respond as record_answer

    if answer not in ("accept", "decline"):
        raise PollflowError(f"answer '{answer}': say accept or decline")
    token = token.rstrip("/").rsplit("/", 1)[-1].removesuffix(".pdf")
    days = [parse_date(d, "--day") for d in day] if day else None
    result = record_answer(
        token,
        answer == "accept",
        via="cli",
        actor=f"{actor(by, permission='manage_staff')} (for the person)",
        dates=days,
        roles=role,
        reason=reason,
        training=training,
    )
    out = console()
    what = "invitation" if result.kind == "invitation" else "offer"
    state = "recorded" if result.changed else "unchanged (already recorded)"
    out.print(f"{result.name} ({result.email}), {what}: {result.summary}: {state}.")
    for key in result.released:
        out.print(f"[yellow]post given up:[/yellow] {key}")
    if result.letter_link:
        out.print(f"Appointment letter: {result.letter_link}", soft_wrap=True)


@app.command()
def allocate(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="show what allocation would do; save nothing")
    ] = False,
    by: ByOption = None,
) -> None:
    """Allocate those available to every vacant post (pins and offers stay), then offer them."""
    from store import staff
    from store.staff import posting as staff_posting
    from store.staff.config import staffing_rules
    from tasks.staffing import check_recruitable

    out = console()
    with store_session() as session:
        poll = check_recruitable(session, election_id)
        staff.require_plan(session, poll)
        if dry_run:
            allocated = staff_posting.run_allocation(session, poll, staffing_rules())
            session.rollback()
            _allocation_summary(
                out, poll.key, allocated.summary, sorted(set(allocated.result.unfilled.values())), True
            )
            posts = {p.id: p for p in allocated.inputs.posts}
            for post_id, staff_id in sorted(allocated.result.assigned.items())[:60]:
                out.print(f"  {posts[post_id].label}: {allocated.inputs.members[staff_id].email}")
            return
    from pollflow.runtime import run_flow

    result = run_flow(
        "recruit_staff:allocate_staff",
        out,
        election_id=poll.key,
        actor=actor(by, permission="manage_staff") + " (allocate)",
    )
    _allocation_summary(out, poll.key, result, result["unfilled_reasons"], False)
    out.print(f"Offers sent: {result['offers']}.")


def _allocation_summary(out, key: str, s: dict, reasons: list[str], dry: bool) -> None:
    verb = "Would fill" if dry else "Filled"
    out.print(
        f"{key}: {verb} {s['assigned']} of {s['slots']} posts' vacancies; {s['unfilled']} unfilled; "
        f"preferences met for {s['preferences_met']} of {s['with_preferences']} who gave any; "
        f"mean distance from home {s['mean_distance_km']} km; {s['reserve']} on the reserve list."
    )
    for reason in reasons:
        out.print(f"[yellow]unfilled:[/yellow] {reason}")


@app.command()
def pin(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    post: Annotated[str, typer.Argument(help="a post key (station:W01:poll-clerk:2) or a station code")],
    email: Annotated[str, typer.Argument(help="the person to put there")],
    role: Annotated[str | None, typer.Option(help="the role, with a station code")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="take the post from whoever holds it")] = False,
    by: ByOption = None,
) -> None:
    """Put a person in a post; allocation keeps them there. `pollflow recruit` sends the offer."""
    from store.staff import posting as staff_posting

    with store_session() as session:
        poll = find_poll(session, election_id)
        found = staff_posting.find_post(session, poll, post, role)
        staff_posting.pin(session, poll, found, email, actor(by, permission="manage_staff"), replace=replace)
        label = found.label
    console().print(f"Pinned {email} to {label}. Run `pollflow recruit {election_id}` to send the offer.")


@app.command()
def unpin(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    post: Annotated[str, typer.Argument(help="a post key or a station code")],
    role: Annotated[str | None, typer.Option(help="the role, with a station code")] = None,
    by: ByOption = None,
) -> None:
    """Let allocation manage a post again (whoever holds it keeps it)."""
    from store.staff import posting as staff_posting

    with store_session() as session:
        poll = find_poll(session, election_id)
        found = staff_posting.find_post(session, poll, post, role)
        staff_posting.unpin(session, poll, found, actor(by, permission="manage_staff"))
        label = found.label
    console().print(f"Unpinned {label}.")


@app.command()
def staffing(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    format: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    list_: Annotated[
        bool, typer.Option("--list", help="the staffing list: who is where, by station")
    ] = False,
) -> None:
    """Need, filled and unfilled per station and role; the reserve list; who is untrained."""
    from store.staff import report as staff_report
    from store.staff.config import staffing_rules

    if format not in ("table", "json"):
        raise PollflowError(f"unknown format '{format}': formats are table, json")
    with store_session() as session:
        poll = find_poll(session, election_id)
        data = staff_report.report(session, poll, staffing_rules())
    if format == "json":
        print(json.dumps(data, indent=2))
        return
    out = console()
    if list_:
        _staffing_list(out, data)
    else:
        _fill_table(out, data)


ROLE_SHORT = {
    "presiding-officer": "PO",
    "poll-clerk": "Clerks",
    "polling-station-inspector": "Inspectors",
    "count-supervisor": "Supervisors",
    "count-assistant": "Assistants",
    "postal-vote-opener": "Openers",
}


def _fill_table(out, data: dict) -> None:
    from rich.table import Table

    table = Table(
        title=f"Staffing: {data['title']}\nfilled {data['filled']} of {data['posts']} posts, "
        f"{data['accepted']} accepted; recruitment closes {data['recruitment_closes'][:10]}",
        title_justify="left",
    )
    for column in ("Station", "Electorate", "Role", "Need", "Filled", "Accepted", "Unfilled", "Why unfilled"):
        table.add_column(
            column,
            justify="right" if column in ("Electorate", "Need", "Filled", "Accepted", "Unfilled") else "left",
        )
    for row in data["stations"]:
        first = True
        for role, cell in row["roles"].items():
            unfilled = cell["need"] - cell["allocated"]
            why = sorted(
                {
                    p["unfilled_reason"]
                    for p in row["posts"]
                    if p["role"] == role and p["unfilled_reason"] and not p["staff"]
                }
            )
            table.add_row(
                f"{row['code']} {row['name']}"
                if first and row["code"] != row["name"]
                else (row["name"] if first else ""),
                f"{row['electorate']:,}" if first and row["electorate"] is not None else "",
                ROLE_SHORT.get(role, role),
                str(cell["need"]),
                str(cell["filled"]),
                str(cell["accepted"]),
                f"[red]{unfilled}[/red]" if unfilled else "0",
                "; ".join(why),
            )
            first = False
    out.print(table)
    totals = Table(title="By role", title_justify="left")
    for column in ("Role", "Need", "Filled", "Accepted", "Fill rate"):
        totals.add_column(column, justify="left" if column == "Role" else "right")
    for role, t in data["totals"].items():
        rate = t["filled"] / t["need"] if t["need"] else 1
        totals.add_row(
            ROLE_SHORT.get(role, role), str(t["need"]), str(t["filled"]), str(t["accepted"]), f"{rate:.0%}"
        )
    out.print(totals)
    reserve = data["reserve"]
    out.print(
        f"Reserve list: {reserve['count']} (target {reserve['target']}). Invitations: "
        + ", ".join(f"{k} {v}" for k, v in sorted(data["invitations"].items()))
    )
    if data["untrained"]:
        out.print(
            f"[yellow]Not yet trained:[/yellow] {len(data['untrained'])} allocated: "
            + ", ".join(u["name"] for u in data["untrained"][:15])
            + (" ..." if len(data["untrained"]) > 15 else "")
        )


def _staffing_list(out, data: dict) -> None:
    from rich.table import Table

    table = Table(title=f"Staffing list: {data['title']}", title_justify="left")
    for column in ("Station", "Post", "Day", "Name", "Email", "Status"):
        table.add_column(column)
    for row in data["stations"]:
        first = True
        for p in row["posts"]:
            table.add_row(
                f"{row['code']} {row['name']}"
                if first and row["code"] != row["name"]
                else (row["name"] if first else ""),
                p["key"].split(":", 1)[1],
                p["duty_date"],
                (p["name"] or "[red]vacant[/red]") + (" (pinned)" if p["pinned"] else ""),
                p["staff"] or "",
                p["status"],
            )
            first = False
    out.print(table)


@app.command()
def payroll(
    election_id: Annotated[str, typer.Argument(help="the election (or poll) id")],
    format: Annotated[str, typer.Option("--format", help="csv or xlsx")] = "csv",
    output: Annotated[
        Path | None, typer.Option(help="the file to write (xlsx needs one; csv: stdout)")
    ] = None,
    include_bank_details: Annotated[
        bool,
        typer.Option(
            "--include-bank-details", help="add NI numbers and bank details (recorded in the audit trail)"
        ),
    ] = False,
    by: ByOption = None,
) -> None:
    """The payroll export: a line per fee (role, training, extras, mileage) for each appointed person."""
    from store import staff
    from store.exports import write_text
    from store.staff.config import fee_schedule
    from store.staff.payroll import payroll_csv, payroll_xlsx

    if format not in ("csv", "xlsx"):
        raise PollflowError(f"unknown format '{format}': formats are csv, xlsx")
    if format == "xlsx" and output is None:
        raise PollflowError("--format xlsx needs --output FILE.xlsx")
    who = actor(
        by,
        named="exporting bank details" if include_bank_details else None,
        permission="export_bank_details" if include_bank_details else "manage_staff",
    )
    if include_bank_details and output is None:
        raise PollflowError(
            "bank details and NI numbers are never printed: add --output FILE to write them to a file"
        )
    fees = fee_schedule()
    with store_session() as session:
        poll = find_poll(session, election_id)
        staff.require_plan(session, poll)
        if format == "csv":
            text = payroll_csv(session, poll, fees, who, include_bank_details)
            if output is None:
                sys.stdout.write(text)
                return
            write_text(output, text)
        else:
            payroll_xlsx(session, poll, fees, output, who, include_bank_details)
    console().print(
        f"Wrote {output}."
        + (" It holds bank details: keep it safe, delete it once used." if include_bank_details else "")
    )
