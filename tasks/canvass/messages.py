"""What the canvass tells people: the weekly report (email with the chart attached, a text with a
link), the offer to defer the revised register and its withdrawal, and the signed link to the
report's web page (pollflow/web/canvass.py). The chart the email carries is kept in the store
(``store.canvass.report.attach``), where delivery finds it (``tasks.messaging.channels``).

Every message goes through the outbox with a dedupe key: the weekly report once per registration
year, ISO week and person; a deferral message once per decision point (the audit entry that
recorded it).
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from store.audit import record
from store.canvass.deferral import DEFERRAL_RULE, ERO, QUALIFYING, DeferralChange
from store.canvass.progress import ROUTES
from store.canvass.report import Report, attach
from store.canvass.rules import NEEDS
from store.canvass.work import WorkChanges
from store.identity.council import public_address
from store.models import Person, Poll
from store.outbox import OutgoingMessage, enqueue, message
from store.owners import MANAGERS, holders
from tasks.messaging.render import render, when
from tasks.messaging.tokens import sign
from timetables.clock import long_date

REPORT_LINK = "canvass-report"
LINK_LIFETIME = dt.timedelta(weeks=10)


def report_token(poll_key: str, week: str, now: dt.datetime | None = None) -> str:
    expires = (now or dt.datetime.now(dt.UTC)) + LINK_LIFETIME
    return sign(REPORT_LINK, {"poll": poll_key, "week": week}, expires)


def report_url(session: Session, poll_key: str, week: str) -> str:
    return f"{public_address(session)}/canvass/report/{report_token(poll_key, week)}"


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def route_rows(report: Report) -> list[dict]:
    """The table by route: the report's first table, the Prefect table artifact's rows."""
    rows = []
    for key, name in [*((str(r), n) for r, n in ROUTES.items()), ("all", "All routes")]:
        block = report.figures["routes"][key]
        before = report.previous["routes"][key]["rate"] if report.previous else None
        rows.append(
            {
                "route": name,
                "properties": block["properties"],
                "responded": block["responded"],
                "outstanding": block["outstanding"],
                "not_contacted": block["not_contacted"],
                "response_rate": pct(block["rate"]),
                "week_before": pct(before) if before is not None else "",
                "change": f"{(block['rate'] - before) * 100:+.1f} pts" if before is not None else "",
            }
        )
    return rows


def need_rows(report: Report) -> list[dict]:
    rows = []
    for key, need in NEEDS.items():
        block = report.figures["needs"][key]
        rows.append(
            {
                "need": key,
                "what": need.label,
                "properties": block["properties"],
                "overdue": block["overdue"],
                "due_in_7_days": block["due_soon"],
                "people": block["people"],
                "first_due": block["earliest_due"] or "",
                "owner": need.owner_role,
            }
        )
    return rows


def text_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """A fixed-width table for a plain-text email: the first column left, the others right."""
    cells = [[title for _, title in columns]] + [[str(row[key]) for key, _ in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    out = []
    for n, line in enumerate(cells):
        out.append(
            "  ".join(
                (cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])) for i, cell in enumerate(line)
            ).rstrip()
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def routes_table(report: Report) -> str:
    columns = [
        ("route", "Route"),
        ("properties", "Properties"),
        ("responded", "Responded"),
        ("outstanding", "Outstanding"),
        ("response_rate", "Rate"),
    ]
    if report.previous:
        columns += [("week_before", "Week before"), ("change", "Change")]
    return text_table(route_rows(report), columns)


def needs_table(report: Report) -> str:
    return text_table(
        need_rows(report),
        [
            ("what", "Need"),
            ("properties", "Properties"),
            ("overdue", "Overdue"),
            ("due_in_7_days", "Due in 7 days"),
            ("first_due", "First due"),
        ],
    )


def headline(report: Report) -> str:
    needs = report.figures["needs"]
    return (
        f"Follow-ups overdue {needs['follow_ups']['overdue']:,}"
        f" · visits needed {needs['visits']['properties']:,}"
        f" · invitations due {needs['invitations']['properties']:,}"
        f" ({needs['invitations']['overdue']:,} overdue)"
        f" · last day for applications {report.rules.last_application:%d %b %Y}"
    )


def days_left_text(report: Report) -> str:
    days = report.figures["days_to_last_application"]
    day = report.rules.last_application
    if days >= 0:
        return (
            f"{days} days to the last day for applications to the revised register "
            f"({long_date(day)}; the register is due by "
            f"{report.rules.revised_register.day} {report.rules.revised_register:%B %Y})."
        )
    return f"The last day for applications to the revised register ({day:%d %B %Y}) has passed."


def report_markdown(report: Report, link: str | None) -> list[str]:
    """The lines of the Prefect markdown artifact."""
    lines = [
        f"Progress report as at **{report.report_date:%A %d %B %Y}** ({report.current.filename}), "
        f"{report.figures['properties']:,} properties.",
        "",
        "| Route | Properties | Responded | Outstanding | Rate | Change |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in route_rows(report):
        lines.append(
            f"| {row['route']} | {row['properties']:,} | {row['responded']:,} | {row['outstanding']:,} | "
            f"{row['response_rate']} | {row['change']} |"
        )
    lines += ["", "| Need | Properties | Overdue | Due in 7 days | First due |", "|---|---:|---:|---:|---|"]
    for row in need_rows(report):
        lines.append(
            f"| {row['what']} | {row['properties']:,} | {row['overdue']:,} | {row['due_in_7_days']:,} | "
            f"{row['first_due']} |"
        )
    electors = report.figures["potential_electors"]
    lines += [
        "",
        f"Potential electors found {electors['found']:,}, applied {electors['applied']:,}, "
        f"still to apply {electors['awaiting']:,}.",
        "",
        days_left_text(report),
    ]
    if link:
        lines += ["", f"[Report and chart]({link})"]
    return lines


def report_messages(
    session: Session,
    report: Report,
    week: str,
    chart: bytes,
    today: dt.date,
    text: bool = False,
    work: WorkChanges | None = None,
    actor: str = "flow:canvass-report",
    flow_run_id: str | None = None,
) -> int:
    """The week's report to each electoral services manager: email with the chart attached (by
    SMTP; through GOV.UK Notify the link stands in for it), and with ``text`` a text message to
    those with a phone. Once per registration year, week and person."""
    poll = report.poll
    link = report_url(session, poll.key, week)
    figures = report.figures
    rate_text = pct(figures["routes"]["all"]["rate"])
    work_text = ""
    if work is not None and work.changed:
        work_text = (
            f"Follow-up work from this report: {len(work.raised)} raised, {len(work.updated)} updated, "
            f"{len(work.reopened)} reopened, {len(work.closed)} closed."
        )
    context = dict(
        poll=poll,
        report_date_text=long_date(report.report_date),
        file=report.current.filename,
        stale_days=report.age(today),
        routes_table=routes_table(report),
        needs_table=needs_table(report),
        electors=figures["potential_electors"],
        days_left_text=days_left_text(report),
        rate_text=rate_text,
        work_text=work_text,
        link=link,
    )
    queued = 0
    recipients = []
    for person in holders(session, MANAGERS):
        key = f"canvass-report:{poll.key}:{week}:{person.id}"
        if _queue(session, key, render("canvass_report", person=person, **context), person, poll):
            attach(session, key, f"canvass-progress-{poll.key}-{week}.png", "image/png", chart)
            queued += 1
            recipients.append(person.email)
        if text and person.phone:
            rates = {r: pct(figures["routes"][r]["rate"]) for r in ("1", "2", "3")}
            sms = render(
                "canvass_report_sms",
                poll=poll,
                report_date_short=f"{report.report_date.day} {report.report_date:%b}",
                rate_text=rate_text,
                r1=rates["1"],
                r2=rates["2"],
                r3=rates["3"],
                follow_ups_overdue=figures["needs"]["follow_ups"]["overdue"],
                visits=figures["needs"]["visits"]["properties"],
                itrs_due=figures["needs"]["invitations"]["properties"],
                link=link,
            )
            if _queue(session, f"{key}:sms", sms, person, poll, channel="sms", recipient=person.phone):
                queued += 1
                recipients.append(person.phone)
    if recipients:
        record(
            session,
            actor,
            "canvass report sent",
            poll_id=poll.id,
            subject=week,
            details={"to": recipients, "report_date": report.report_date.isoformat()},
            flow_run_id=flow_run_id,
        )
    return queued


def _queue(
    session: Session,
    key: str,
    rendered: tuple[str, str],
    person: Person,
    poll: Poll,
    channel: str = "email",
    recipient: str | None = None,
) -> bool:
    """Queue one part of the weekly report; True if it was new."""
    sent = message(
        key, "canvass-report", rendered, to=person, recipient=recipient, channel=channel, poll_id=poll.id
    )
    return enqueue(session, [sent]) == 1


def _polls_text(polls: list[dict]) -> str:
    lines = []
    for p in polls:
        kinds = ", ".join(QUALIFYING[k] for k in p["kinds"])
        line = f"  {p['title']} ({p['poll_key']}; {kinds})"
        if p["caveats"]:
            line += f"\n    note: {'; '.join(p['caveats'])}"
        lines.append(line)
    return "\n".join(lines) or "  (none)"


def deferral_messages(session: Session, changes: list[DeferralChange]) -> int:
    """Tell the ERO of an offer, its withdrawal, or a deferral no poll allows any more; tell the
    managers when the deferral is accepted (their deadlines moved)."""
    messages: list[OutgoingMessage] = []
    for change in changes:
        template = {
            "offered": "canvass_deferral_offered",
            "reoffered": "canvass_deferral_offered",
            "withdrawn": "canvass_deferral_withdrawn",
            "unsupported": "canvass_deferral_unsupported",
            "accepted": "canvass_deferral_accepted",
        }.get(change.kind)
        if template is None:
            continue
        year = int(change.canvass_key.rsplit(".", 1)[1])
        roles = MANAGERS if change.kind == "accepted" else (ERO,)
        deferred = dt.date.fromisoformat(change.deferred_to) if change.deferred_to else None
        for person in holders(session, roles):
            rendered = render(
                template,
                person=person,
                year=year,
                canvass_key=change.canvass_key,
                polls_text=_polls_text(change.polls),
                rule=DEFERRAL_RULE,
                due_text=when(dt.datetime.fromisoformat(change.due)) if change.due else "soon",
                deferred_text=f"{deferred.day} {deferred:%B %Y}" if deferred else "",
            )
            messages.append(
                message(
                    f"canvass-deferral:{change.kind}:{change.audit_id}:{person.id}",
                    f"canvass-deferral-{change.kind}",
                    rendered,
                    to=person,
                    poll_id=change.canvass_id,
                    work_item_id=change.work_item_id,
                )
            )
    return enqueue(session, messages)
