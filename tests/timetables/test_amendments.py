"""Deadlines changed by emergency legislation for one poll (timetables/amendments.py), recorded
as data with their citation: the 2016 EU referendum's registration extension is bundled; a
council records one with `pollflow law amend`, which replans the live polls it touches."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from sqlmodel import select

from pollflow.cli import main
from store.models import Notification, WorkItem
from tests.support.identity import token_of
from tests.support.workspace import POLL, TEAM, seed_team
from timetables import amendments, calendars, timetable_for
from timetables.errors import DefinitionError, OverrideError


@pytest.fixture(autouse=True)
def fresh_amendments():
    """Each test reads the amendments files afresh (its own POLLFLOW_HOME), and leaves none behind."""
    calendars.reload()
    yield
    calendars.reload()


def test_the_eu_referendum_2016_registration_deadline_extended_to_9_june_by_si_2016_668():
    """The website failed on 7 June 2016; the European Union Referendum (Voter Registration)
    Regulations 2016 (SI 2016/668) let applications made by midnight on 9 June count."""
    for nation in ("england", "wales", "scotland", "northern-ireland"):
        event = timetable_for("ref.2016-06-23", nation=nation).find("registration")[0]
        assert (event.date, event.time) == (dt.date(2016, 6, 9), dt.time(23, 59)), nation
        assert "SI 2016/668" in event.citation and event.basis == "legislation"
    # Only that poll: a referendum on another day keeps the rule's deadline.
    later = timetable_for("ref.2016-07-21", nation="england").find("registration")[0]
    assert later.date == dt.date(2016, 7, 4)  # 12 working days, Northern Ireland's 12 July skipped


def amend(capsys, *args):
    code = main(["law", "amend", *args])
    out, err = capsys.readouterr()
    return code, " ".join(out.split()), err


def test_an_amendment_replans_the_live_poll_and_tells_the_owner(sqlite_store, capsys):
    seed_team(sqlite_store)
    with sqlite_store.session() as s:
        before = s.scalars(select(WorkItem).where(WorkItem.key == "publish_notice_of_election")).one()
        was = before.due_at
    with token_of(TEAM["electoral-services-manager"]):
        code, out, err = amend(
            capsys, "local", "2027-05-06", "notice_of_election", "2027-03-26",
            "--citation", "Local Elections (Emergency) Regulations 2027 (SI 2027/999)", "--nation", "england",
        )  # fmt: skip
    assert code == 0, err
    assert "Recorded: the local poll of 2027-05-06 has its notice_of_election on 2027-03-26" in out
    assert f"Replanned {POLL}" in out and "their owners are told" in out
    saved = yaml.safe_load(amendments.user_file().read_text())["amendments"]
    assert saved[0]["added_by"] == TEAM["electoral-services-manager"]  # who, proven by the token
    event = timetable_for(POLL).find("notice_of_election")[0]
    assert event.date == dt.date(2027, 3, 26) and "SI 2027/999" in event.citation
    with pytest.raises(OverrideError, match="fixed for this poll by Local Elections .Emergency."):
        timetable_for(POLL, overrides={"notice_of_election": "2027-03-25"})  # the law's, not to be set
    with sqlite_store.session() as s:
        item = s.scalars(select(WorkItem).where(WorkItem.key == "publish_notice_of_election")).one()
        assert item.due_at != was and item.due_at.date() == dt.date(2027, 3, 26)
        moved = s.scalars(select(Notification).where(Notification.kind == "moved")).all()
        assert moved, "the owner of what moved is told"
    # Twice is refused, and changes nothing.
    with token_of(TEAM["electoral-services-manager"]):
        code, _, err = amend(
            capsys,
            "local",
            "2027-05-06",
            "notice_of_election",
            "2027-03-25",
            "--citation",
            "SI 2027/1000 (a second)",
        )
    assert code == 2 and "already amended, to 2027-03-26" in err
    assert len(yaml.safe_load(amendments.user_file().read_text())["amendments"]) == 1


@pytest.mark.parametrize(
    "args,message",
    [
        (["locale", "2027-05-06", "registration", "2027-04-20"], "no kind of poll 'locale'"),
        (["local", "2027-05-06", "nonsense", "2027-04-20"], "has no event 'nonsense'"),
        (["local", "2027-05-32", "registration", "2027-04-20"], "POLL '2027-05-32' is not a date"),
        (["local", "2027-05-06", "registration", "20 April"], "DATE '20 April' is not a date"),
        (
            ["local", "2027-05-06", "registration", "2027-04-20", "--time", "5pm"],
            "--time '5pm' is not a time",
        ),
        (["local", "2027-05-06", "registration", "2027-04-20", "--nation", "cornwall"], "unknown nation"),
        (["local", "2027-05-06", "Registration!", "2027-04-20"], "event: String should match pattern"),
    ],
)
def test_bad_amendments_are_one_line_and_write_nothing(sqlite_store, capsys, args, message):
    code, _, err = amend(capsys, *args, "--citation", "SI 2027/999 (a test)")
    assert code == 2 and message in err and "Traceback" not in err
    assert not amendments.user_file().exists()


def test_a_short_citation_is_refused(sqlite_store, capsys):
    code, _, err = amend(capsys, "local", "2027-05-06", "registration", "2027-04-20", "--citation", "SI")
    assert code == 2 and "citation" in err


def test_an_amendment_naming_an_event_the_poll_does_not_have_is_a_clear_error(tmp_path, monkeypatch):
    """A hand-edited file: the definitions know the event in general, not for this poll."""
    monkeypatch.setenv("POLLFLOW_HOME", str(tmp_path))
    amendments.user_file().write_text(
        yaml.safe_dump({"amendments": [{"kind": "parl", "poll": "2019-12-12", "event": "vac",
                                        "date": "2019-12-05", "citation": "An imagined order 2019"}]})
    )  # fmt: skip
    calendars.reload()
    with pytest.raises(DefinitionError, match="names vac, which it does not have"):
        timetable_for("parl.2019-12-12", nation="england")


def test_amendments_are_listed(capsys):
    assert main(["law", "amendments"]) == 0
    out = " ".join(capsys.readouterr()[0].split())
    assert "ref poll of 2016-06-23: registration on 2016-06-09 23:59, by European Union Referendum" in out
