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
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pollflow.web.render import sentence
from templates import WEB_DIR
from timetables.errors import PollflowError

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
    return Environment(loader=FileSystemLoader(WEB_DIR / "staff"), undefined=StrictUndefined, autoescape=True)


def _page(title: str, body_template: str, http_status: int = 200, **ctx) -> HTMLResponse:
    from markupsafe import Markup

    from store.db import session_scope
    from store.identity.council import council_details

    with session_scope() as session:
        council = council_details(session)
    body = _env().get_template(body_template).render(council=council, **ctx)
    html = (
        _env()
        .get_template("layout.html.j2")
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
    return _page("Link not valid", "gone.html.j2", status, message=message)


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
                    "what": sentence(staffing.duty_text([r for r in roles if r in member.roles])),
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
                "invitation.html.j2",
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
            "offer.html.j2",
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
