"""The page where invited staff answer, through their personal signed link: say whether they can
work (which days, which roles), accept or decline an offered post, book training, download their
appointment letter, or withdraw. Plain HTML forms (no JavaScript), made for a phone.

GET  /staff/respond/{token}        the page for an invitation or an offer
POST /staff/respond/{token}        an answer (then back to the page: post, redirect, get)
GET  /staff/letter/{token}.pdf     the appointment letter, once the offer is accepted

A link that is forged or for something else finds nothing (404); an expired one says so (410).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, StrictUndefined

from timetables.errors import PollflowError

PAGE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }} - {{ council.name }}</title>
<style>
  *, *::before, *::after { box-sizing: border-box; }
  body { margin: 0; font-family: Arial, "Liberation Sans", sans-serif; font-size: 19px; line-height: 1.4;
         color: #0b0c0c; background: #f3f2f1; }
  header { background: #1F4E79; color: #fff; padding: 14px 16px; }
  header strong { font-size: 20px; }
  main { max-width: 640px; margin: 0 auto; padding: 16px; background: #fff; min-height: 80vh; }
  h1 { font-size: 28px; margin: 8px 0 16px; line-height: 1.2; }
  h2 { font-size: 22px; margin: 24px 0 8px; }
  .panel { border-left: 6px solid #00703c; background: #eef7f1; padding: 12px 14px; margin: 12px 0 20px; }
  .panel.warn { border-color: #d4351c; background: #fdf0ee; }
  .panel.info { border-color: #1d70b8; background: #eef4fa; }
  dl { margin: 0 0 16px; } dt { font-weight: bold; margin-top: 8px; } dd { margin: 0; }
  fieldset { border: 0; padding: 0; margin: 0 0 20px; }
  legend { font-weight: bold; font-size: 20px; margin-bottom: 8px; }
  .choice { display: flex; align-items: flex-start; gap: 10px; padding: 8px 0; }
  .choice input { width: 30px; height: 30px; margin: 0; flex: none; }
  .choice label { padding-top: 3px; }
  .hint { color: #505a5f; font-size: 16px; }
  textarea { width: 100%; font: inherit; padding: 8px; border: 2px solid #0b0c0c; min-height: 70px; }
  button { display: block; width: 100%; font: inherit; font-weight: bold; padding: 12px; margin: 10px 0;
           border: 0; border-bottom: 3px solid #002d18; background: #00703c; color: #fff; cursor: pointer; }
  button.secondary { background: #f3f2f1; color: #0b0c0c; border-bottom-color: #929191; }
  button.warning { background: #d4351c; border-bottom-color: #55150b; }
  button:focus, a:focus, input:focus, textarea:focus { outline: 3px solid #ffdd00; outline-offset: 0; }
  a { color: #1d70b8; }
  footer { max-width: 640px; margin: 0 auto; padding: 16px; font-size: 16px; color: #505a5f; }
</style>
</head>
<body>
<header><strong>{{ council.name }}</strong><br>Elections: staff</header>
<main id="main">
{% if notice %}<div class="panel" role="status">{{ notice }}</div>{% endif %}
{% if error %}<div class="panel warn" role="alert"><strong>There is a problem:</strong> {{ error }}</div>{% endif %}
{{ body }}
</main>
<footer>{{ council.returning_officer }} · {{ council.email }} · {{ council.phone }}</footer>
</body>
</html>
"""  # noqa: E501

INVITATION = """
<h1>Can you work at the elections on {{ poll_day }}?</h1>
<p>Hello {{ name }}. {{ council.returning_officer }} is appointing staff for <strong>{{ poll_title }}</strong>.</p>
{% if status == "available" %}<div class="panel info">You told us you can work on {{ chosen_days | join(", ") }}.
You can change your answer until {{ closes }}.</div>
{% elif status == "declined" %}<div class="panel info">You told us you cannot work this time.
You can change your answer until {{ closes }}.</div>{% endif %}
<form method="post" action="">
  <fieldset>
    <legend>Which days can you work?</legend>
    {% for d in days %}
    <div class="choice"><input type="checkbox" id="day-{{ loop.index }}" name="day" value="{{ d.value }}"{% if d.checked %} checked{% endif %}>
      <label for="day-{{ loop.index }}">{{ d.label }}<br><span class="hint">{{ d.what }}</span></label></div>
    {% endfor %}
  </fieldset>
  <fieldset>
    <legend>Which roles will you do?</legend>
    {% for r in roles %}
    <div class="choice"><input type="checkbox" id="role-{{ loop.index }}" name="role" value="{{ r.value }}"{% if r.checked %} checked{% endif %}>
      <label for="role-{{ loop.index }}">{{ r.label }}</label></div>
    {% endfor %}
  </fieldset>
  <button type="submit" name="action" value="accept">Yes, I can work</button>
  <button type="submit" name="action" value="decline" class="secondary">No, I cannot work this time</button>
</form>
<p class="hint">Saying yes is not yet an appointment: we will offer you a post once staff are allocated.
Recruitment closes {{ closes }}.</p>
"""  # noqa: E501

OFFER = """
<h1>{% if status == "accepted" %}You are appointed{% elif status == "offered" %}We offer you a post{% else %}This offer is closed{% endif %}</h1>
<p>Hello {{ name }}. {{ poll_title }}.</p>
<dl>
  <dt>Post</dt><dd>{{ post.role }}</dd>
  {% if post.station %}<dt>Where</dt><dd>{{ post.station }} ({{ post.station_code }})<br>{{ post.address }}</dd>{% endif %}
  <dt>When</dt><dd>{{ post.day }}, {{ post.starts }} to {{ post.ends }}</dd>
  <dt>Fee</dt><dd>{{ post.fee }}</dd>
</dl>
{% if status == "offered" %}
<form method="post" action="">
  <p>Please answer by {{ answer_by }}.</p>
  <button type="submit" name="action" value="accept">Accept this post</button>
  <label for="reason" class="hint">If you decline, you can tell us why (optional)</label>
  <textarea id="reason" name="reason"></textarea>
  <button type="submit" name="action" value="decline" class="secondary">Decline this post</button>
</form>
{% elif status == "accepted" %}
<p><a href="{{ letter }}">Download your appointment letter (PDF)</a></p>
{% if training_needed %}
<h2>Training</h2>
{% if booking %}<div class="panel">You are booked: <strong>{{ booking.title }}</strong>, {{ booking.when }}, {{ booking.venue }}.</div>{% endif %}
{% if sessions %}
<form method="post" action="">
  <fieldset>
    <legend>{% if booking %}Change your session{% else %}Book a training session (by {{ training_deadline }}){% endif %}</legend>
    {% for s in sessions %}
    <div class="choice"><input type="radio" id="session-{{ loop.index }}" name="session" value="{{ s.code }}"{% if s.places_left == 0 %} disabled{% endif %}{% if booking and booking.code == s.code %} checked{% endif %}>
      <label for="session-{{ loop.index }}">{{ s.when }}, {{ s.venue }}<br><span class="hint">{{ s.places_left }} places left</span></label></div>
    {% endfor %}
  </fieldset>
  <button type="submit" name="action" value="book">Book this session</button>
</form>
{% elif not booking %}<p>We will send you the training dates shortly.</p>{% endif %}
{% endif %}
<h2>If you can no longer do this</h2>
<form method="post" action="">
  <label for="withdraw-reason" class="hint">Tell us why (optional)</label>
  <textarea id="withdraw-reason" name="reason"></textarea>
  <button type="submit" name="action" value="decline" class="warning">I can no longer do this post</button>
</form>
{% else %}
<div class="panel warn">This offer is {{ status }}. If you think this is a mistake, contact the elections office.</div>
{% endif %}
"""  # noqa: E501

NOTICES = {
    "available": "Thank you: we have your answer. We will offer you a post once staff are allocated.",
    "declined": "Thank you for letting us know. We will not chase you about this poll.",
    "accepted": "Thank you: you are appointed. We have emailed you your appointment letter.",
    "offer-declined": "Thank you for letting us know. We will offer the post to someone else.",
    "withdrawn": "Thank you for letting us know. We will find someone else for the post.",
    "booked": "Your training place is booked. We have emailed you the details.",
    "unchanged": "We already had that answer: nothing has changed.",
}


@cache
def _env() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=True)


def _page(title: str, body_template: str, http_status: int = 200, **ctx) -> HTMLResponse:
    from markupsafe import Markup

    from store.staff.config import staffing_rules

    council = staffing_rules().council.model_dump()
    body = _env().from_string(body_template).render(council=council, **ctx)
    html = (
        _env()
        .from_string(PAGE)
        .render(
            title=title,
            council=council,
            body=Markup(body),
            notice=ctx.get("notice"),
            error=ctx.get("error"),
        )
    )
    return HTMLResponse(
        html, status_code=http_status, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    )


def _gone(message: str, status: int) -> HTMLResponse:
    return _page(
        "Link not valid", "<h1>This link cannot be used</h1><p>{{ message }}</p>", status, message=message
    )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _resolve(session, token: str):
    from tasks.staffing import resolve

    return resolve(session, token)


def _view(token: str, notice: str | None = None, error: str | None = None, status: int = 200) -> HTMLResponse:

    from store import staff
    from store.db import session_scope
    from store.models import utcnow
    from store.staff import recruitment as staff_recruitment
    from store.staff import training as staff_training
    from store.staff.config import staffing_rules
    from tasks import staffing
    from tasks.messaging.render import when
    from tasks.messaging.tokens import TokenError
    from timetables.clock import local, long_date

    with session_scope() as session:
        try:
            found = _resolve(session, token)
        except TokenError as exc:
            return _gone(str(exc), 410 if "expired" in str(exc) else 404)
        member, poll = found.member, found.poll
        common = dict(
            name=member.name,
            poll_title=poll.title,
            poll_day=long_date(poll.poll_date),
            notice=NOTICES.get(notice) if notice else None,
            error=error,
        )
        if found.kind == "invitation":
            rec = found.recruitment
            chosen = set(rec.available_dates)
            days = [
                {
                    "value": day.isoformat(),
                    "label": long_date(day),
                    "what": _capital(staffing.duty_text([r for r in roles if r in member.roles])),
                    "checked": day.isoformat() in chosen or rec.status == "invited",
                }
                for day, roles in sorted(staff_recruitment.duty_days(session, poll).items())
                if set(roles) & set(member.roles)
            ]
            roles = [
                {"value": r, "label": staff.label(r), "checked": r in rec.roles or rec.status != "available"}
                for r in member.roles
            ]
            return _page(
                "Can you work at the elections?",
                INVITATION,
                status,
                days=days,
                roles=roles,
                status=rec.status,
                chosen_days=[long_date(dt.date.fromisoformat(d)) for d in rec.available_dates],
                closes=when(found.plan.recruitment_close),
                **common,
            )
        offer, post = found.offer, found.post
        rules = staffing_rules()
        booking = staff_training.booked_session(session, poll, member)
        sessions = [
            staffing.session_ctx(session, s)
            for s in staff_training.sessions_of(session, poll)
            if s.starts_at > utcnow() and (not s.roles or post.role in s.roles)
        ]
        return _page(
            "Your post at the elections",
            OFFER,
            status,
            status=offer.status,
            post=staffing.post_ctx(session, post),
            answer_by=when(offer.offered_at + dt.timedelta(days=rules.recruitment.offer_lapses_days)),
            letter=f"/staff/letter/{token}.pdf",
            training_needed=post.role in rules.training.required_for,
            booking=staffing.session_ctx(session, booking) if booking else None,
            sessions=sessions,
            training_deadline=f"{local(found.plan.training_deadline):%A %d %B}",
            **common,
        )


def register(app: FastAPI) -> None:
    @app.get("/staff/respond/{token}", response_class=HTMLResponse)
    def respond_page(token: str, done: str | None = None) -> HTMLResponse:
        return _view(token, notice=done)

    @app.post("/staff/respond/{token}", response_class=HTMLResponse)
    async def respond_post(token: str, request: Request) -> Response:
        from tasks import staffing
        from tasks.messaging.tokens import TokenError

        form = parse_qs((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=False)
        action = (form.get("action") or [""])[0]
        reason = (form.get("reason") or [""])[0].strip()[:500] or None
        try:
            if action == "book":
                code = (form.get("session") or [""])[0]
                if not code:
                    raise PollflowError("choose a training session")
                changed = staffing.book_training(token, code)
                done = "booked" if changed else "unchanged"
            elif action in ("accept", "decline"):
                accept = action == "accept"
                days = roles = None
                if accept:
                    days = [dt.date.fromisoformat(d) for d in form.get("day", [])] or None
                    roles = form.get("role") or None
                    if days is None and _is_invitation(token):
                        raise PollflowError("tick at least one day you can work, or say you cannot work")
                    if roles is None and _is_invitation(token):
                        raise PollflowError("tick at least one role you will do")
                result = staffing.respond(token, accept, via="web", dates=days, roles=roles, reason=reason)
                if not result.changed:
                    done = "unchanged"
                elif result.kind == "invitation":
                    done = "available" if accept else "declined"
                elif accept:
                    done = "accepted"
                else:
                    done = "withdrawn" if "withdrawn" in result.summary else "offer-declined"
            else:
                raise PollflowError("choose an answer")
        except TokenError as exc:
            return _gone(str(exc), 410 if "expired" in str(exc) else 404)
        except (PollflowError, ValueError) as exc:
            return _view(token, error=str(exc), status=400)
        return RedirectResponse(f"/staff/respond/{token}?done={done}", status_code=303)

    @app.get("/staff/letter/{token}.pdf")
    def letter(token: str) -> Response:
        from store.db import session_scope
        from tasks import staffing
        from tasks.messaging.tokens import TokenError

        with session_scope() as session:
            try:
                found = _resolve(session, token)
            except TokenError as exc:
                return _gone(str(exc), 410 if "expired" in str(exc) else 404)
            if found.kind != "offer" or found.offer.status != "accepted":
                return _gone("there is no appointment letter for this link yet: accept the offer first", 404)
            pdf = staffing.appointment_letter(session, found.poll, found.member)
            name = f"appointment-{found.poll.poll_date.isoformat()}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
        )


def _is_invitation(token: str) -> bool:
    from tasks.messaging.tokens import TokenError, verify
    from tasks.staffing import INVITATION

    try:
        verify(INVITATION, token)
        return True
    except TokenError:
        return False
