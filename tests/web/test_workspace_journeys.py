"""The workspace in a real browser (Chromium, driven by Playwright), as its users go through it:
an administrator invites a manager, who sets a password from the email and plans a poll; an
officer signs in with single sign-on (a real OpenID Connect provider, run here) and completes work
from the link in a reminder email (received by a real SMTP server); the Returning Officer
approves a notice from the sign-off queue; the audit page shows each step with the
authenticated person and how they signed in; a poll clerk reaches none of it. Every page passes
axe-core (WCAG 2.2 AA) with no serious or critical violation, and the main journey works by
keyboard alone. Screenshots of each page are kept in the test's folder for a person to look at."""

from __future__ import annotations

import datetime as dt
import re

import oidc_provider_mock
import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import select

from pollflow.web import sso
from store.models import Person, Poll, WorkItem
from store.work import open_blockers
from tasks.documents.produce import produce
from tasks.messaging.alerts import scan_deadlines
from tasks.messaging.delivery import deliver_outbox
from tests.support.identity import PASSWORD, seed_account
from tests.tasks.documents.test_samples import PROOFER, RO_EMAIL, setup_sample

ADMIN, MANAGER, CLERK = "ada@wychwood.gov.uk", "mo@wychwood.gov.uk", "pat@wychwood.gov.uk"
MANAGER_IN_SAMPLE = "alice@wychwood.gov.uk"
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}
AXE = Axe()


def accessible(page, what: str) -> None:
    """axe-core on the page as it is now: no serious or critical WCAG 2.2 A/AA violation."""
    found = AXE.run(page, options=WCAG).response["violations"]
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in found if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{what}: {bad}"


def plain(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message, path: str) -> str:
    body = plain(message)
    found = re.search(rf"http://\S+{re.escape(path)}\S*", body)
    assert found, body
    return found.group(0)


@pytest.fixture
def oidc(monkeypatch):
    users = [oidc_provider_mock.User(sub="bob-entra-id", claims={"email": PROOFER, "email_verified": True})]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        monkeypatch.setenv("POLLFLOW_SSO_ISSUER", f"http://localhost:{server.server_port}")
        monkeypatch.setenv("POLLFLOW_SSO_CLIENT_ID", "pollflow-wychwood")
        monkeypatch.setenv("POLLFLOW_SSO_CLIENT_SECRET", "not-a-real-secret")
        monkeypatch.setenv("POLLFLOW_SSO_NAME", "your Wychwood account")
        yield server


@pytest.fixture
def council(sqlite_store, oidc, smtp, web_server, monkeypatch, tmp_path):
    sso.metadata.cache_clear()
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_DIR", str(tmp_path / "published"))
    with sqlite_store.session() as s:
        poll, election_id = setup_sample(s, "local", "england")  # the team, a planned poll, candidates
        seed_account(s, ADMIN, "Ada Admin", ["administrator"])
        seed_account(s, RO_EMAIL, "Carol Returning", ["returning-officer"])
        seed_account(s, CLERK, "Pat Clerk", ["poll-clerk"])
    return {
        "base": web_server,
        "smtp": smtp,
        "poll_id": poll.id,
        "election_id": election_id,
        "store": sqlite_store,
    }


@pytest.fixture
def new_page(browser, tmp_path):
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def sign_in(page, base: str, email: str, next_path: str = "/work") -> None:
    page.goto(f"{base}/sign-in?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")


def test_the_team_runs_a_poll_in_the_workspace(council, new_page, tmp_path):
    journey = dict(council, new_page=new_page, shots=tmp_path)
    for step in (
        invite_a_manager,
        the_manager_plans_a_poll,
        the_officer_completes_work_from_a_reminder,
        the_returning_officer_approves_a_notice,
        the_audit_shows_who_did_what,
        a_poll_clerk_reaches_nothing,
    ):
        step(journey)


def invite_a_manager(j) -> None:
    admin = j["new_page"]()
    sign_in(admin, j["base"], ADMIN)
    admin.goto(f"{j['base']}/admin/people")
    accessible(admin, "admin: people")
    admin.fill("#email", MANAGER)
    admin.fill("#name", "Mo Manager")
    admin.check("#role-electoral-services-manager")
    admin.click("button:has-text('Add')")
    assert "The email is queued" in admin.inner_text("main")
    shot(admin, j["shots"], "01-admin-people")
    assert deliver_outbox().sent >= 1
    j["smtp"].wait_for(1)
    j["invitation"] = next(m for m in j["smtp"].messages if m["To"] == MANAGER)
    assert "invited to Wychwood" in j["invitation"]["Subject"]


def the_manager_plans_a_poll(j) -> None:
    manager = j["new_page"]()
    manager.goto(link_in(j["invitation"], "/account/invitation/"))
    accessible(manager, "set a password")
    shot(manager, j["shots"], "02-set-password")
    manager.fill("#password", "short")
    manager.fill("#confirm", "short")
    manager.click("button:has-text('Save and sign in')")
    assert "at least 12 characters" in manager.inner_text(".govuk-error-summary")
    accessible(manager, "set a password, with an error")
    manager.fill("#password", PASSWORD)
    manager.fill("#confirm", PASSWORD)
    manager.click("button:has-text('Save and sign in')")
    assert manager.url.endswith("/work")
    manager.goto(f"{j['base']}/polls/new")
    accessible(manager, "plan a poll")
    manager.fill("#election_ids", "local.hartfield.2027-05-06")
    manager.click("button:has-text('Plan the poll')")
    assert "Planned: the timetable is stored" in manager.inner_text("main")
    assert "SI 2006/3304 Sch 2 r.1" in manager.inner_text("main")  # the timetable cites its law
    accessible(manager, "the poll")
    shot(manager, j["shots"], "03-poll")
    manager.select_option("#area", "electoral-services-officer")
    manager.click("button:has-text('Filter')")
    assert "Electoral Services Manager" not in manager.inner_text(".pf-timeline")


def the_officer_completes_work_from_a_reminder(j) -> None:
    base, smtp = j["base"], j["smtp"]
    with j["store"].session() as s:
        item = {w.key: w for w in s.exec(select(WorkItem).where(WorkItem.poll_id == j["poll_id"])).all()}
    stations = j["stations"] = item["book_polling_stations"]
    # The Returning Officer agrees the project plan (a named sign-off), so the officer's work is ready.
    ro = j["ro"] = j["new_page"]()
    sign_in(ro, base, RO_EMAIL)
    ro.goto(f"{base}/work/{item['project_plan'].id}")
    ro.fill("#note", "Agreed at the planning meeting")
    ro.click("button:has-text('Record as done')")
    assert "Recorded as done" in ro.inner_text("main")
    scan_deadlines(stations.due_at - dt.timedelta(hours=2))
    deliver_outbox()
    smtp.wait_for(2)
    # The reminder may come gathered with the officer's other work due by then (the catalogue of
    # issue 14 plans months ahead), so it is found by what it says, not by its subject.
    reminder = next(m for m in smtp.messages if m["To"] == PROOFER and "Book polling" in plain(m))
    officer = j["officer"] = j["new_page"]()
    officer.goto(link_in(reminder, f"/work/{stations.id}"))
    assert "/sign-in" in officer.url
    accessible(officer, "sign in")
    shot(officer, j["shots"], "04-sign-in")
    officer.click("text=Sign in with your Wychwood account")
    officer.click("button[value='bob-entra-id']")  # the provider's own page: Bob's council account
    assert officer.url.endswith(f"/work/{stations.id}"), officer.inner_text("main")
    accessible(officer, "a work item")
    shot(officer, j["shots"], "05-work-item")
    officer.fill("#note", "All 42 stations booked; keys listed in the stations workbook")
    officer.click("button:has-text('Record as done')")
    assert "Recorded as done" in officer.inner_text("main")
    officer.goto(f"{base}/work")
    accessible(officer, "my work")
    shot(officer, j["shots"], "06-my-work")


def the_returning_officer_approves_a_notice(j) -> None:
    base, officer, ro = j["base"], j["officer"], j["ro"]
    with j["store"].session() as s:
        produce(
            s,
            s.get(Poll, j["poll_id"]),
            dt.datetime(2027, 4, 1, 9, tzinfo=dt.UTC),
            only=["notice_of_election"],
        )
    officer.goto(f"{base}/signoff")
    accessible(officer, "the sign-off queue")
    officer.click("text=Notice of election")
    officer.fill("#note", "Dates checked against the timetable")
    officer.click("button:has-text('Record my proof-check')")
    assert "waits for the Returning Officer's approval" in officer.inner_text("main")
    assert officer.locator("button:has-text('Approve this version')").count() == 0  # not theirs to do
    ro.goto(f"{base}/signoff")
    shot(ro, j["shots"], "07-signoff-queue")
    ro.click("text=Notice of election")
    accessible(ro, "a version to approve")
    shot(ro, j["shots"], "08-signoff-version")
    ro.click("button:has-text('Approve this version')")
    assert "Approved." in ro.inner_text("main")


def the_audit_shows_who_did_what(j) -> None:
    ro = j["ro"]
    ro.goto(f"{j['base']}/audit?poll={j['poll_id']}")
    accessible(ro, "the audit trail")
    shot(ro, j["shots"], "09-audit")
    rows = ro.inner_text("table")
    assert re.search(rf"{re.escape(PROOFER)}\s+sso, web\s+completed", rows)
    assert re.search(rf"{re.escape(PROOFER)}\s+sso, web\s+document proof-checked", rows)
    assert re.search(rf"{re.escape(RO_EMAIL)}\s+password, web\s+document approved", rows)
    with ro.expect_download() as download:
        ro.click("text=Download them as CSV")
    assert "document approved" in download.value.path().read_text()


def a_poll_clerk_reaches_nothing(j) -> None:
    clerk = j["new_page"]()
    sign_in(clerk, j["base"], CLERK)
    paths = ["/work", f"/work/{j['stations'].id}", "/polls", f"/polls/{j['poll_id']}", "/signoff", "/audit"]
    for path in [*paths, "/admin/people"]:
        assert clerk.goto(f"{j['base']}{path}").status == 403, path
    accessible(clerk, "the page a poll clerk gets")
    assert clerk.locator("nav[aria-label='Menu'] a:has-text('My work')").count() == 0


def tab_to(page, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has the focus (as someone with no mouse does)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the focus by Tab")


def test_signing_in_and_completing_work_by_keyboard_alone(council, new_page):
    base, store = council["base"], council["store"]
    with store.session() as s:
        seed_account(
            s, MANAGER_IN_SAMPLE, "Alice Manager", ["electoral-services-manager"]
        )  # gives a password
        alice = s.exec(select(Person).where(Person.email == MANAGER_IN_SAMPLE)).one()
        owned = s.exec(select(WorkItem).where(WorkItem.owner_id == alice.id, ~WorkItem.needs_signoff)).all()
        item = next(w for w in sorted(owned, key=lambda w: w.due_at) if not open_blockers(s, w))
    page = new_page()
    page.goto(f"{base}/sign-in")
    tab_to(page, "a.govuk-skip-link")
    page.keyboard.press("Enter")  # the skip link takes the focus to the main content
    tab_to(page, "#email")
    page.keyboard.type(MANAGER_IN_SAMPLE)
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/work")
    tab_to(page, f"a[href='/work/{item.id}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/work/{item.id}")
    tab_to(page, "#note")
    page.keyboard.type("Agreed, by keyboard")
    tab_to(page, "form[action$='/complete'] button")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + s.boxShadow; }"
    )
    assert outline != "none" and outline != "nonenone"  # the focus can be seen
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*notice=completed"))
    assert "Recorded as done" in page.inner_text("main")
