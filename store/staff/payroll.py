"""Payroll: what each appointed person is paid for a poll, from the fee schedule
(config/fees.yaml), as lines the council's payroll imports (CSV) and a workbook (Excel).

A person is paid for each post they accepted (a fee per role), once for training if they
attended a session of the poll, the extras the schedule gives their role (ballot box collection,
a combined poll supplement), and mileage (home to the station and back, straight-line, where both
grid references are known). Amounts are exact (Decimal, to the penny).

Bank details and NI numbers are in the export only when asked for (``include_sensitive``), for a
payroll that needs them for new starters; the audit trail records who exported them, never what
they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from store import exports
from store.audit import record
from store.models import Election, Poll
from store.models.staff import PollingStation, StaffMember, StaffPost
from store.staff import label, require_plan
from store.staff.config import Fees
from store.staff.crypto import read_sensitive
from store.staff.training import trained_ids

PENNY = Decimal("0.01")
KM_PER_MILE = Decimal("1.609344")
COLUMNS = ("payroll_ref", "name", "email", "element", "description", "quantity", "rate", "amount")
SENSITIVE_COLUMNS = ("ni_number", "sort_code", "account_number", "account_name")


def money(value) -> Decimal:
    return Decimal(str(value)).quantize(PENNY, rounding=ROUND_HALF_UP)


@dataclass
class Line:
    member: StaffMember
    element: str
    description: str
    quantity: Decimal
    rate: Decimal

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.rate)


def payroll_lines(session: Session, poll: Poll, fees: Fees) -> list[Line]:
    require_plan(session, poll)
    elections = session.scalar(select(func.count()).select_from(Election).where(Election.poll_id == poll.id))
    combined = (elections or 1) > 1
    posts = session.scalars(
        select(StaffPost)
        .where(StaffPost.poll_id == poll.id, StaffPost.status == "accepted", StaffPost.active)
        .order_by(StaffPost.staff_id, StaffPost.duty_date, StaffPost.id)
    ).all()
    members = {
        m.id: m
        for m in session.scalars(select(StaffMember).where(StaffMember.id.in_({p.staff_id for p in posts})))
    }
    stations = {s.id: s for s in session.scalars(select(PollingStation))}
    trained = trained_ids(session, poll)
    lines: list[Line] = []
    for post in posts:
        member = members[post.staff_id]
        fee = fees.roles[post.role]
        where = stations[post.station_id].code if post.station_id else (post.group_name or post.kind)
        lines.append(
            Line(
                member,
                fee.element,
                f"{label(post.role)}, {where}, {post.duty_date:%d %b %Y}",
                Decimal(1),
                money(fee.fee),
            )
        )
        for extra in fees.extras:
            if post.role in extra.roles and (combined or not extra.combined_polls_only):
                lines.append(
                    Line(
                        member,
                        extra.element,
                        f"{extra.name} ({label(post.role)})",
                        Decimal(1),
                        money(extra.fee),
                    )
                )
        mileage = fees.mileage
        station = stations.get(post.station_id)
        if (
            mileage
            and post.role in mileage.roles
            and station is not None
            and station.easting is not None
            and member.easting is not None
        ):
            km = math.hypot(station.easting - member.easting, station.northing - member.northing) / 1000
            miles = (Decimal(str(km)) * 2 / KM_PER_MILE).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            if miles > 0:
                lines.append(
                    Line(
                        member,
                        mileage.element,
                        f"Mileage, home to {station.code} and back",
                        miles,
                        money(mileage.per_mile),
                    )
                )
    for member_id in sorted({p.staff_id for p in posts} & trained, key=lambda i: members[i].email):
        member = members[member_id]
        lines.append(
            Line(
                member,
                fees.training.element,
                "Training session attended",
                Decimal(1),
                money(fees.training.fee),
            )
        )
    lines.sort(key=lambda line: (line.member.name, line.member.email, line.element, line.description))
    return lines


def _rows(lines: list[Line], include_sensitive: bool) -> list[list]:
    rows = []
    cache: dict[int, dict] = {}
    for line in lines:
        m = line.member
        row = [
            m.payroll_ref or "",
            m.name,
            m.email,
            line.element,
            line.description,
            line.quantity,
            line.rate,
            line.amount,
        ]
        if include_sensitive:
            if m.id not in cache:
                cache[m.id] = read_sensitive(m)
            row += [cache[m.id].get(k, "") for k in SENSITIVE_COLUMNS]
        rows.append(row)
    return rows


def _audit(
    session: Session, poll: Poll, lines: list[Line], fmt: str, actor: str, include_sensitive: bool
) -> None:
    record(
        session,
        actor,
        "payroll exported",
        poll_id=poll.id,
        subject=poll.key,
        details={
            "format": fmt,
            "people": len({line.member.id for line in lines}),
            "lines": len(lines),
            "total": str(sum((line.amount for line in lines), Decimal(0))),
            "bank_and_ni_details_included": include_sensitive,
        },
    )


def payroll_csv(session: Session, poll: Poll, fees: Fees, actor: str, include_sensitive: bool = False) -> str:
    lines = payroll_lines(session, poll, fees)
    header = list(COLUMNS) + (list(SENSITIVE_COLUMNS) if include_sensitive else [])
    text = exports.csv_text(header, _rows(lines, include_sensitive), lineterminator="\n")
    _audit(session, poll, lines, "csv", actor, include_sensitive)
    return text


def payroll_xlsx(
    session: Session, poll: Poll, fees: Fees, path: Path, actor: str, include_sensitive: bool = False
) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    lines = payroll_lines(session, poll, fees)
    book = Workbook()
    summary = book.active
    summary.title = "Payments"
    header = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F4E79")
    totals: dict[int, tuple[StaffMember, Decimal, list[str]]] = {}
    for line in lines:
        member, total, what = totals.get(line.member.id, (line.member, Decimal(0), []))
        totals[line.member.id] = (member, total + line.amount, [*what, line.description])
    summary.append(["Payroll ref", "Name", "Email", "Total (£)", "Lines"])
    for member, total, what in sorted(totals.values(), key=lambda t: (t[0].name, t[0].email)):
        exports.append(summary, [member.payroll_ref or "", member.name, member.email, total, len(what)])
    summary.append([])
    summary.append(["", "Total", "", sum((t[1] for t in totals.values()), Decimal(0)), len(lines)])
    detail = book.create_sheet("Lines")
    detail.append(
        [c.replace("_", " ").capitalize() for c in COLUMNS]
        + ([c.replace("_", " ") for c in SENSITIVE_COLUMNS] if include_sensitive else [])
    )
    for row in _rows(lines, include_sensitive):
        exports.append(detail, row)
    for sheet, widths in ((summary, [14, 28, 34, 12, 8]), (detail, [14, 28, 34, 10, 52, 10, 10, 12])):
        for cell in sheet[1]:
            cell.font, cell.fill = header, fill
        for n, width in enumerate(widths):
            sheet.column_dimensions[chr(ord("A") + n)].width = width
        sheet.freeze_panes = "A2"
    for row in summary.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.number_format = "£#,##0.00"
    for row in detail.iter_rows(min_row=2, min_col=7, max_col=8):
        for cell in row:
            cell.number_format = "£#,##0.00"
    source = book.create_sheet("Fee schedule")
    source.append(["Element", "What", "Fee (£)"])
    for role, fee in fees.roles.items():
        exports.append(source, [fee.element, label(role), fee.fee])
    source.append([fees.training.element, "Training session attended", fees.training.fee])
    for extra in fees.extras:
        exports.append(source, [extra.element, extra.name, extra.fee])
    if fees.mileage:
        source.append([fees.mileage.element, "Mileage (a mile)", fees.mileage.per_mile])
    source.append([])
    source.append(["Basis", fees.basis])
    path = exports.save_workbook(book, path)
    _audit(session, poll, lines, "xlsx", actor, include_sensitive)
    return path
