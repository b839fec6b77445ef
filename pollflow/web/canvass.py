"""The weekly canvass report behind the signed link its messages carry (for those who read them
through GOV.UK Notify or a text, where no chart is attached):

GET /canvass/report/{token}             the report: response rate by route, what needs doing, chart
GET /canvass/report/{token}/chart.png   the chart, as sent that week

A link that is forged or for something else finds nothing (404); an expired one says so (410).
"""

from __future__ import annotations

from functools import cache

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from templates import WEB_DIR


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(WEB_DIR / "canvass"), undefined=StrictUndefined, autoescape=True
    )


def _report(token: str):
    """The weekly report a link names, or the HTTP error to answer with."""
    from store.canvass.report import weekly_report
    from store.db import session_scope
    from store.queries import NotFoundError, find_poll
    from tasks.canvass.messages import REPORT_LINK
    from tasks.messaging.tokens import TokenError, verify

    try:
        payload = verify(REPORT_LINK, token)
    except TokenError as exc:
        expired = "expired" in str(exc)
        raise HTTPException(status_code=410 if expired else 404, detail=str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status_code=404, detail="no such report") from exc
    with session_scope() as session:
        try:
            poll = find_poll(session, payload.get("poll", ""))
        except NotFoundError as exc:
            raise HTTPException(status_code=404, detail="no such report") from exc
        row = weekly_report(session, poll, payload.get("week", ""))
        if row is None:
            raise HTTPException(status_code=404, detail="no such report")
        session.expunge(row)
        return poll, row


def register(app: FastAPI) -> None:
    @app.get("/canvass/report/{token}/chart.png")
    def canvass_chart(token: str) -> Response:
        _, row = _report(token)
        return Response(row.chart, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/canvass/report/{token}", response_class=HTMLResponse)
    def canvass_page(token: str) -> HTMLResponse:
        import datetime as dt

        from store.canvass.report import Report
        from store.canvass.rules import rules_for
        from store.db import session_scope
        from store.models.canvass import CanvassImport
        from tasks.canvass.messages import days_left_text, need_rows, route_rows
        from timetables.clock import long_date

        poll, row = _report(token)
        with session_scope() as session:
            rules = rules_for(session, poll)
            current = session.get(CanvassImport, row.import_id)
        report = Report(poll, rules, current, row.figures, row.figures.get("week_before"), [], {})
        monday = dt.date.fromisocalendar(int(row.week[:4]), int(row.week[6:]), 1)
        late = (monday - row.report_date).days
        html = (
            _environment()
            .get_template("report.html.j2")
            .render(
                title=poll.title,
                report_date=long_date(row.report_date),
                week=row.week,
                properties=f"{row.figures['properties']:,}",
                stale=late if late > 7 else 0,
                routes=route_rows(report),
                needs=need_rows(report),
                electors=row.figures["potential_electors"],
                days_left=days_left_text(report),
                chart_url=f"/canvass/report/{token}/chart.png",
            )
        )
        return HTMLResponse(html, headers={"Cache-Control": "private, no-cache"})
