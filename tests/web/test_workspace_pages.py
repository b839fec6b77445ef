"""Every page of the workspace in a real browser: each passes axe-core (WCAG 2.2 A and AA) with no
serious or critical violation, as it first shows, with a form's errors, and as an error page;
and each is screenshotted in the test's folder for a person to look at."""

from __future__ import annotations

from sqlmodel import select

from store.models import Person, WorkItem
from tests.support.identity import PASSWORD
from tests.support.workspace import TEAM, seed_team
from tests.web.test_workspace_journeys import accessible

HEAD, CLERK = TEAM["head-of-electoral-services"], TEAM["poll-clerk"]


def signed_in_page(browser, base: str, email: str):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/work")
    return context, page


def test_every_page_is_accessible(sqlite_store, web_server, browser, tmp_path):
    seed_team(sqlite_store)
    with sqlite_store.session() as s:
        item = s.exec(select(WorkItem).where(WorkItem.key == "book_polling_stations")).one()
        person = s.exec(select(Person).where(Person.email == TEAM["staffing-officer"])).one()
    poll = item.poll_id
    context, page = signed_in_page(browser, web_server, HEAD)
    pages = [
        ("my-work", "/work"),
        ("work-item", f"/work/{item.id}"),
        ("polls", "/polls"),
        ("poll", f"/polls/{poll}"),
        ("poll-filtered", f"/polls/{poll}?area=electoral-services-officer"),
        ("staffing", f"/polls/{poll}/staffing"),
        ("plan", "/polls/new"),
        ("signoff", "/signoff"),
        ("audit", "/audit"),
        ("audit-errors", "/audit?from=soon"),
        ("admin-people", "/admin/people"),
        ("admin-person", f"/admin/people/{person.id}"),
        ("admin-roles", "/admin/roles"),
        ("admin-council", "/admin/council"),
        ("admin-tokens", "/admin/tokens"),
        ("account", "/account"),
        ("not-found", "/no-such-page"),
    ]
    for name, path in pages:
        page.goto(web_server + path)
        accessible(page, path)
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    # Forms with their errors, and the token shown once.
    page.goto(f"{web_server}/polls/new")
    page.click("button:has-text('Plan the poll')")
    assert "Enter the poll's election id" in page.inner_text(".govuk-error-summary")
    accessible(page, "plan a poll, with an error")
    page.goto(f"{web_server}/admin/people")
    page.click("button:has-text('Add')")
    accessible(page, "add someone, with errors")
    page.goto(f"{web_server}/account")
    page.fill("#name", "laptop")
    page.click("button:has-text('Make a token')")
    assert page.inner_text("#new-token").startswith("pf_")
    accessible(page, "a new token")
    page.screenshot(path=str(tmp_path / "account-token.png"), full_page=True)
    context.close()

    clerk, clerk_page = signed_in_page(browser, web_server, CLERK)
    clerk_page.goto(f"{web_server}/polls")
    accessible(clerk_page, "forbidden")
    clerk.close()

    anonymous = browser.new_context()
    page = anonymous.new_page()
    for name, path in (
        ("sign-in", "/sign-in"),
        ("forgot", "/account/forgot"),
        ("bad-link", "/account/reset/nope"),
    ):
        page.goto(web_server + path)
        accessible(page, path)
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    page.goto(f"{web_server}/sign-in")
    page.click("button:has-text('Sign in')")
    assert "Enter your email address" in page.inner_text(".govuk-error-summary")
    accessible(page, "sign in, with errors")
    page.goto(f"{web_server}/account/forgot")
    page.fill("#email", "someone@wychwood.gov.uk")
    page.click("button:has-text('Send the link')")
    assert "If that address belongs to someone in the team" in page.inner_text("main")
    accessible(page, "reset link sent")
    anonymous.close()
