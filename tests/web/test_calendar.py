"""The web service: calendar feeds Outlook subscribes to, behind signed links."""

import datetime as dt

import pytest
import requests
from icalendar import Calendar
from sqlmodel import select

from pollflow.web import calendar_url
from store.models import Person
from tasks.messaging.tokens import TokenError, sign, verify
from tests.support.helpers import plan, seed_people


def test_a_subscribed_calendar_lists_a_persons_open_work(sqlite_store, web_server):
    with sqlite_store.session() as s:
        seed_people(s)
        plan(s)
    url = calendar_url("Bob@Wychwood.gov.uk", web_server)
    assert url.startswith(web_server + "/calendar/") and url.endswith(".ics")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.text)
    summaries = [str(e["summary"]) for e in cal.walk("VEVENT")]
    assert "Book polling places and stations (and confirm access, keys and accessibility)" in summaries
    assert all(len(list(e.walk("VALARM"))) == 3 for e in cal.walk("VEVENT"))


def test_a_tampered_or_foreign_link_finds_nothing(sqlite_store, web_server):
    url = calendar_url("bob@wychwood.gov.uk", web_server)
    tampered = url.replace("/calendar/", "/calendar/x")
    assert requests.get(tampered, timeout=10).status_code == 404
    foreign = f"{web_server}/calendar/{sign('invitation', {'email': 'bob@wychwood.gov.uk'})}.ics"
    assert requests.get(foreign, timeout=10).status_code == 404


def test_tokens_carry_an_expiry_and_a_purpose():
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    token = sign("invitation", {"person": 3}, expires=later)
    assert verify("invitation", token) == {"person": 3}
    with pytest.raises(TokenError, match="expired"):
        verify("invitation", token, now=later + dt.timedelta(seconds=1))
    with pytest.raises(TokenError, match="changed or is for something else"):
        verify("calendar", token)
    with pytest.raises(TokenError, match="incomplete"):
        verify("invitation", "garbage")


def test_a_name_with_a_line_break_still_gives_a_feed_and_each_entry_links_to_the_workspace(
    sqlite_store, web_server
):
    with sqlite_store.session() as s:
        seed_people(s)
        plan(s)
        bob = s.exec(select(Person).where(Person.email == "bob@wychwood.gov.uk")).one()
        bob.name = "Bob\nOfficer {{ x }}"  # as an older import might have stored it
    response = requests.get(calendar_url("bob@wychwood.gov.uk", web_server), timeout=10)
    assert response.status_code == 200
    cal = Calendar.from_ical(response.text)
    assert str(cal["x-wr-calname"]) == "Election work: Bob Officer {{ x }}"
    descriptions = [str(e["description"]) for e in cal.walk("VEVENT")]
    assert all(f"{web_server}/work/" in d and "--by" not in d for d in descriptions)
