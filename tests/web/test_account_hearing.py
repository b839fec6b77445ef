"""How each person chooses to hear about their work, on their account page: chosen in a real
browser by keyboard alone and saved, with the banner saying so and axe-core finding nothing on
the page; a choice that cannot be met (text with no phone on record, their own webhook with no
address or one not on https, a way that does not exist) refused with what was wrong and what is
allowed, and nothing saved; only ever for the person signed in."""

from __future__ import annotations

import pytest
from sqlmodel import select

from store.models import AuditEntry, Person
from tests.support.identity import PASSWORD, seed_account
from tests.support.workspace import Client
from tests.web.test_workspace_journeys import AXE, WCAG

OFFICER, OTHER = "olu@wychwood.gov.uk", "pip@wychwood.gov.uk"
SLACK = "https://hooks.slack.com/services/T0000/B0000/own-channel-key"


@pytest.fixture
def team(sqlite_store, web_server):
    with sqlite_store.session() as s:
        seed_account(s, OFFICER, "Olu Officer", ["electoral-services-officer"])
        seed_account(s, OTHER, "Pip Postal", ["postal-votes-officer"])
    return web_server


def stored(store, email: str) -> tuple[str, str | None]:
    with store.session() as s:
        person = s.exec(select(Person).where(Person.email == email)).one()
        return person.hear_by, person.webhook_url


def audited(store) -> list[AuditEntry]:
    with store.session() as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.action == "how they hear changed")))


def no_violations(page, what: str) -> None:
    """axe-core (WCAG 2.2 A and AA) finds nothing at all on the page, whatever its impact."""
    found = AXE.run(page, options=WCAG).response["violations"]
    assert [(v["id"], v["impact"], len(v["nodes"])) for v in found] == [], what


def press_until(page, key: str, selector: str, most: int = 40) -> None:
    """Press ``key`` until the element ``selector`` names has the focus."""
    for _ in range(most):
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def test_an_officer_chooses_the_morning_digest_by_keyboard_alone(team, sqlite_store, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(f"{team}/sign-in?next=/account")
    page.fill("#email", OFFICER)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{team}/account")
    assert page.is_checked("#hear_by")  # email, until they choose
    no_violations(page, "your account")

    # Tab reaches the group at its chosen radio; within a group the arrow keys move the choice
    # (Tab alone would leave it), Space keeps it; then Tab to Save and Enter.
    press_until(page, "Tab", "#hear_by")
    press_until(page, "ArrowDown", "#hear_by-digest")
    page.keyboard.press("Space")
    assert page.is_checked("#hear_by-digest")
    press_until(page, "Tab", "form[action='/account/hearing'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{team}/account?notice=hearing")
    assert "How you hear was saved" in page.inner_text(".govuk-notification-banner")
    assert page.is_checked("#hear_by-digest")
    assert stored(sqlite_store, OFFICER) == ("digest", None)
    (entry,) = audited(sqlite_store)
    assert (entry.actor, entry.subject, entry.via) == (OFFICER, OFFICER, "web")
    assert entry.details == {"hear_by": "digest", "was": "email", "webhook": None}
    no_violations(page, "how you hear, saved")
    page.screenshot(path=str(tmp_path / "account-hearing.png"), full_page=True)

    # Text, with no mobile number on record: refused, said where it was chosen, nothing saved.
    page.check("#hear_by-text")
    page.click("form[action='/account/hearing'] button")
    summary = page.inner_text(".govuk-error-summary")
    assert "we have no mobile number for you" in summary
    assert "we have no mobile number for you" in page.inner_text("#hear_by-error")
    assert page.is_checked("#hear_by-text")  # what they chose, shown back to them
    no_violations(page, "how you hear, with an error")
    page.screenshot(path=str(tmp_path / "account-hearing-error.png"), full_page=True)
    assert stored(sqlite_store, OFFICER) == ("digest", None)
    context.close()


def test_a_choice_that_cannot_be_met_is_refused_and_nothing_saved(team, sqlite_store):
    client = Client(team)
    assert client.sign_in(OFFICER).status_code == 303
    refused = [
        ({"hear_by": "text"}, "hear_by", "You cannot choose text messages because we have no mobile number"),
        ({"hear_by": "webhook"}, "webhook_url", "Enter your Teams or Slack webhook address"),
        (
            {"hear_by": "webhook", "webhook_url": "http://hooks.slack.com/services/T0/B0/key"},
            "webhook_url",
            "Enter your webhook address in full, starting https://",
        ),
        ({"hear_by": "email", "webhook_url": "hooks.slack.com/x"}, "webhook_url", "starting https://"),
        (
            {"hear_by": "email", "webhook_url": f"{SLACK}/{'x' * 500}"},
            "webhook_url",
            "Your webhook address must be 500 characters or fewer",
        ),
        ({"hear_by": "fax"}, "hear_by", "Choose how you hear: by email, by text message, in your own"),
        ({}, "hear_by", "Choose how you hear"),
    ]
    for form, field, said in refused:
        answer = client.post("/account/hearing", form)
        assert answer.status_code == 400, form
        page = answer.text
        assert f'<a href="#{field}">' in page and said in page.split('class="govuk-error-summary"')[1], form
        assert f'id="{field}-error"' in page, form
        assert "<title>Error: Your account" in page, form
    assert stored(sqlite_store, OFFICER) == ("email", None)
    assert audited(sqlite_store) == []


def test_text_and_webhook_are_saved_for_the_signed_in_person_only(team, sqlite_store):
    with sqlite_store.session() as s:
        s.exec(select(Person).where(Person.email == OFFICER)).one().phone = "07700 900123"
    client = Client(team)
    assert client.sign_in(OFFICER).status_code == 303
    assert "To 07700 900123" in client.get("/account").text
    with sqlite_store.session() as s:
        other = s.exec(select(Person).where(Person.email == OTHER)).one().id
    # The form names someone else: ignored, the signed-in person's choice is what changes.
    answer = client.post("/account/hearing", {"hear_by": "text", "person_id": str(other), "email": OTHER})
    assert (answer.status_code, answer.headers["location"]) == (303, "/account?notice=hearing")
    assert stored(sqlite_store, OFFICER) == ("text", None)
    assert stored(sqlite_store, OTHER) == ("email", None)

    answer = client.post("/account/hearing", {"hear_by": "webhook", "webhook_url": f"  {SLACK} "})
    assert answer.status_code == 303
    assert stored(sqlite_store, OFFICER) == ("webhook", SLACK)
    page = client.get("/account?notice=hearing").text
    assert "How you hear was saved" in page and f'value="{SLACK}"' in page
    # The address is the key to their channel: the audit trail names its host, never the key.
    last = audited(sqlite_store)[-1]
    assert last.details == {"hear_by": "webhook", "was": "text", "webhook": "hooks.slack.com"}
    assert all("own-channel-key" not in str(e.details) for e in audited(sqlite_store))

    # Emptying the address while hearing by it is refused; by email, it is taken off.
    assert client.post("/account/hearing", {"hear_by": "webhook", "webhook_url": ""}).status_code == 400
    assert stored(sqlite_store, OFFICER) == ("webhook", SLACK)
    assert client.post("/account/hearing", {"hear_by": "email", "webhook_url": ""}).status_code == 303
    assert stored(sqlite_store, OFFICER) == ("email", None)
