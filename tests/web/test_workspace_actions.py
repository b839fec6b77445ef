"""What the workspace's actions do: each one store transaction with its audit entry naming the
signed-in person, how they signed in and that it came from the web; the same click twice changes
nothing; the people concerned are told."""

from __future__ import annotations

from sqlmodel import select

from store.models import AuditEntry, Notification, Person, WorkItem
from tests.support.workspace import TEAM, Client, seed_team

MANAGER, RO, OFFICER = (
    TEAM["electoral-services-manager"],
    TEAM["returning-officer"],
    TEAM["electoral-services-officer"],
)


def item(store, key):
    with store.session() as s:
        return s.exec(select(WorkItem).where(WorkItem.key == key)).one()


def test_completing_commenting_and_reassigning_are_recorded_as_the_signed_in_person(sqlite_store, web_server):
    seed_team(sqlite_store)
    ro, manager = Client(web_server), Client(web_server)
    assert ro.sign_in(RO).status_code == 303 and manager.sign_in(MANAGER).status_code == 303
    plan = item(sqlite_store, "project_plan")
    done = ro.post(f"/work/{plan.id}/complete", {"note": "Agreed with the RO"})
    assert done.status_code == 303 and done.headers["location"] == f"/work/{plan.id}?notice=completed"
    again = ro.post(f"/work/{plan.id}/complete", {"note": "twice"})
    assert again.headers["location"].endswith("notice=unchanged")
    page = ro.get(f"/work/{plan.id}")
    assert "Recorded as done" not in page.text and "Agreed with the RO" in page.text

    stations = item(sqlite_store, "book_polling_stations")
    assert (
        manager.post(f"/work/{stations.id}/comment", {"comment": "Ask about the new school hall"}).status_code
        == 303
    )
    given = manager.post(
        f"/work/{stations.id}/reassign", {"owner": TEAM["deputy-electoral-services-manager"]}
    )
    assert given.headers["location"].endswith("notice=reassigned")
    same = manager.post(f"/work/{stations.id}/reassign", {"owner": TEAM["deputy-electoral-services-manager"]})
    assert same.headers["location"].endswith("notice=unchanged")
    history = manager.get(f"/work/{stations.id}").text
    assert "commented by " + MANAGER in history and "Ask about the new school hall" in history

    with sqlite_store.session() as s:
        entries = {e.action: e for e in s.exec(select(AuditEntry).where(AuditEntry.via == "web")).all()}
        ro_id = s.exec(select(Person.id).where(Person.email == RO)).one()
        told = s.exec(select(Notification).where(Notification.kind == "reassigned")).all()
        ready = s.exec(select(Notification).where(Notification.kind == "unblocked")).all()
    completed = entries["completed"]
    assert (completed.actor, completed.person_id, completed.auth_method) == (RO, ro_id, "password")
    assert (
        entries["commented"].actor == MANAGER
        and entries["reassigned"].details["to"] == TEAM["deputy-electoral-services-manager"]
    )
    assert [m.recipient for m in told] == [TEAM["deputy-electoral-services-manager"]]  # once, for once
    assert f"/work/{stations.id}" in told[0].body
    assert {m.recipient for m in ready} >= {OFFICER}  # what waited for the plan is ready, and its owner told
