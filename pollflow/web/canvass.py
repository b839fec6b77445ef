"""The weekly canvass report behind the signed link its messages carry (for those who read them
through GOV.UK Notify or a text, where no chart is attached):

GET /canvass/report/{token}             the report: response rate by route, what needs doing, chart
GET /canvass/report/{token}/chart.png   the chart, as sent that week

A link that is forged or for something else finds nothing (404); an expired one says so (410).
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, StrictUndefined

PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Canvass progress - {{ title }}</title>
<style>
  body { margin: 0; font-family: Arial, "Liberation Sans", sans-serif; font-size: 17px; line-height: 1.4;
         color: #0b0c0c; background: #f3f2f1; }
  header { background: #1F4E79; color: #fff; padding: 14px 16px; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 20px; background: #fff; }
  h1 { font-size: 26px; margin: 6px 0 4px; } h2 { font-size: 21px; margin: 24px 0 8px; }
  .meta { color: #505a5f; margin: 0 0 14px; }
  .warn { border-left: 6px solid #d4351c; background: #fdf0ee; padding: 10px 14px; }
  table { border-collapse: collapse; width: 100%; margin-bottom: 8px; }
  th, td { border-bottom: 1px solid #b1b4b6; padding: 6px 8px; text-align: right; }
  th:first-child, td:first-child { text-align: left; }
  th { background: #f3f2f1; } tr.total td { font-weight: bold; }
  td.overdue { color: #d4351c; font-weight: bold; }
  img { max-width: 100%; height: auto; border: 1px solid #b1b4b6; margin-top: 8px; }
</style>
</head>
<body>
<header><strong>pollflow</strong> &middot; canvass progress</header>
<main>
<h1>{{ title }}</h1>
<p class="meta">Progress report as at {{ report_date }} &middot; week {{ week }} &middot;
{{ properties }} properties</p>
{% if stale %}<p class="warn">The progress report is {{ stale }} days older than the week this was
sent in: the EMS's latest had not been imported.</p>{% endif %}
<h2>Response rate by route</h2>
<table>
<thead><tr><th>Route</th><th>Properties</th><th>Responded</th><th>Outstanding</th><th>Not contacted</th>
<th>Rate</th><th>Change on the week before</th></tr></thead>
<tbody>
{% for row in routes %}<tr{% if loop.last %} class="total"{% endif %}><td>{{ row.route }}</td>
<td>{{ "{:,}".format(row.properties) }}</td><td>{{ "{:,}".format(row.responded) }}</td>
<td>{{ "{:,}".format(row.outstanding) }}</td><td>{{ "{:,}".format(row.not_contacted) }}</td>
<td>{{ row.response_rate }}</td><td>{{ row.change }}</td></tr>
{% endfor %}</tbody>
</table>
<h2>What needs doing</h2>
<table>
<thead><tr><th>Need</th><th>Properties</th><th>Overdue</th><th>Due in 7 days</th><th>First due</th>
<th>Owner</th></tr></thead>
<tbody>
{% for row in needs %}<tr><td>{{ row.what }}</td><td>{{ "{:,}".format(row.properties) }}</td>
<td{% if row.overdue %} class="overdue"{% endif %}>{{ "{:,}".format(row.overdue) }}</td>
<td>{{ "{:,}".format(row.due_in_7_days) }}</td><td>{{ row.first_due }}</td><td>{{ row.owner }}</td></tr>
{% endfor %}</tbody>
</table>
<p>Potential electors found {{ electors.found }}, applied {{ electors.applied }}, still to apply
{{ electors.awaiting }}. {{ days_left }}</p>
<h2>Chart</h2>
<img src="{{ chart_url }}" alt="Response rate by route this week and the trend since the first report">
</main>
</body>
</html>
"""


def _environment() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=True)


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
            .from_string(PAGE)
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
