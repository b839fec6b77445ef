"""Staffing at a glance in the workspace: need, filled and unfilled per station, from the same
report as `pollflow staffing`; staff's names only for those who may see their contact details."""

from __future__ import annotations

from store.staff import recruitment as staff_recruitment
from tasks import staffing
from tests.support.identity import seed_account
from tests.support.staff import BEFORE_INVITES, everyone_available, setup_poll, start
from tests.support.workspace import Client
from tests.web.test_workspace_journeys import accessible


def test_staffing_at_a_glance(sqlite_store, web_server, browser, tmp_path):
    with sqlite_store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test", as_of=BEFORE_INVITES)
        everyone_available(s, poll)
        seed_account(s, "lucy@wychwood.gov.uk", "Lucy Staffing", ["staffing-officer"])
        seed_account(s, "pv@wychwood.gov.uk", "Pat Postal", ["postal-votes-officer"])
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    lucy, postal = Client(web_server), Client(web_server)
    assert lucy.sign_in("lucy@wychwood.gov.uk").status_code == 303
    assert postal.sign_in("pv@wychwood.gov.uk").status_code == 303
    page = lucy.get(f"/polls/{poll.id}/staffing")
    assert page.status_code == 200
    assert "Need, filled and unfilled per station" in page.text and "St Mary&#39;s Church Hall" in page.text
    assert '<th scope="col" class="govuk-table__header">Who</th>' in page.text
    without = postal.get(f"/polls/{poll.id}/staffing")
    assert without.status_code == 200 and ">Who</th>" not in without.text  # no names without the permission
    context = browser.new_context()
    context.add_cookies([{"name": k, "value": v, "url": web_server} for k, v in lucy.http.cookies.items()])
    view = context.new_page()
    view.goto(f"{web_server}/polls/{poll.id}/staffing")
    view.screenshot(path=str(tmp_path / "staffing.png"), full_page=True)
    accessible(view, "staffing at a glance")
    context.close()
