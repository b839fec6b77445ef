"""The audit trail, searchable by poll, person, action and date, and exported as CSV: who did
what and when, how they were authenticated and through what.

GET /audit       ?poll=ID&person=ID&action=TEXT&from=YYYY-MM-DD&to=YYYY-MM-DD&page=N (view_audit)
                 (a person by id, so that no email address is in an address or a log)
GET /audit.csv   the same search, every matching entry (view_audit)
"""

from __future__ import annotations

import datetime as dt
import io
import json
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import func
from sqlmodel import select

from pollflow.web.render import page
from pollflow.web.session import need
from store.db import session_scope
from store.exports import csv_writer
from store.models import AuditEntry, Person, Poll
from timetables.clock import LONDON, local

PAGE = 100


def _filters(params) -> tuple[dict, dict]:
    """The search as given (for the form) and the problems with it (each named)."""
    given = {k: (params.get(k) or "").strip()[:200] for k in ("poll", "person", "action", "from", "to")}
    errors = {}
    for key in ("from", "to"):
        if given[key]:
            try:
                dt.date.fromisoformat(given[key])
            except ValueError:
                errors[key] = (
                    f"The {'start' if key == 'from' else 'end'} date must be a date, like 2027-05-06"
                )
    for key, what in (("poll", "a poll"), ("person", "a person")):
        if given[key] and not (given[key].isdigit() and len(given[key]) < 10):
            errors[key] = f"Choose {what} from the list"
    return given, errors


def _query(given: dict):
    query = select(AuditEntry)
    if given["poll"]:
        query = query.where(AuditEntry.poll_id == int(given["poll"]))
    if given["person"]:
        query = query.where(AuditEntry.person_id == int(given["person"]))
    if given["action"]:
        query = query.where(AuditEntry.action.contains(given["action"].lower(), autoescape=True))
    if given["from"]:
        start = dt.datetime.combine(dt.date.fromisoformat(given["from"]), dt.time(), LONDON)
        query = query.where(AuditEntry.at >= start)
    if given["to"]:
        end = dt.datetime.combine(
            dt.date.fromisoformat(given["to"]) + dt.timedelta(days=1), dt.time(), LONDON
        )
        query = query.where(AuditEntry.at < end)
    return query


router = APIRouter()


@router.get("/audit")
def audit_page(request: Request, viewer=need("view_audit")) -> Response:
    given, errors = _filters(request.query_params)
    number = request.query_params.get("page", "1")
    number = int(number) if number.isdigit() and 0 < int(number) < 100000 else 1
    with session_scope() as session:
        polls = session.scalars(select(Poll).order_by(Poll.poll_date.desc())).all()
        people = session.scalars(select(Person).order_by(Person.name)).all()
        entries, total = [], 0
        if not errors:
            query = _query(given)
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            entries = session.scalars(
                query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                .offset((number - 1) * PAGE)
                .limit(PAGE)
            ).all()
        titles = {p.id: p.title for p in polls}
        return page(
            request,
            "audit.html.j2",
            title="Audit trail",
            polls=polls,
            titles=titles,
            people=people,
            given=given,
            errors=errors,
            entries=entries,
            total=total,
            number=number,
            pages=max(1, -(-total // PAGE)),
            query_string=urlencode({k: v for k, v in given.items() if v}),
            status=400 if errors else 200,
        )


@router.get("/audit.csv")
def audit_csv(request: Request, viewer=need("view_audit")) -> Response:
    given, errors = _filters(request.query_params)
    if errors:
        return Response("; ".join(errors.values()) + "\n", 400, media_type="text/plain")
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["at (UK time)", "person", "how", "through", "action", "poll", "subject", "details"])
    with session_scope() as session:
        keys = {p.id: p.key for p in session.scalars(select(Poll)).all()}
        for e in session.scalars(_query(given).order_by(AuditEntry.at, AuditEntry.id)).all():
            writer.writerow(
                [
                    local(e.at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.auth_method or "",
                    e.via or "",
                    e.action,
                    keys.get(e.poll_id, ""),
                    e.subject or "",
                    json.dumps(e.details, sort_keys=True, default=str),
                ]
            )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="pollflow-audit.csv"',
            "Cache-Control": "no-store",
        },
    )


def register(app: FastAPI) -> None:
    app.include_router(router)
