"""The rows of the election timetable for candidates and agents, worded for the public.

The timetable's own labels and citations are written for the people who plan the poll: they say
how a date was found ("assumed the day after polling day until set with --set declaration=DATE",
"rule text not seen", "check the Order"). That belongs in the workspace and the audit trail, never
on a document the Returning Officer signs and publishes, so each row is worded here: the label
without the planner's notes, and a date nobody has fixed yet shown as expected, to be confirmed.
"""

from __future__ import annotations

import re

from store.models import TimetableEvent
from tasks.documents.text import event_texts

# The events a candidate or agent needs, in the order the timetable lists them.
CANDIDATE_EVENTS = (
    "notice_of_election",
    "close_of_nominations",
    "withdrawals",
    "election_agents",
    "objections",
    "sopn",
    "election_agents_notice",
    "registration",
    "postal_vote",
    "proxy",
    "vac",
    "notice_of_poll",
    "polling_stations_notice",
    "polling_counting_agents",
    "sub_agents",
    "poll",
    "emergency_proxy",
    "declaration",
    "expenses_return",
)

# Where the planner's label says more than the public needs, or says it in the planner's terms.
LABELS = {
    "poll": "Polling day (polling stations open from 7am to 10pm)",
    "declaration": "Declaration of result",
}

# The Welsh for the timetable's labels, for the candidates' timetable of a Welsh poll.
TIMETABLE_CY = {
    "notice_of_election": "Cyhoeddi'r hysbysiad etholiad",
    "close_of_nominations": "Y dyddiad cau ar gyfer cyflwyno papurau enwebu",
    "withdrawals": "Y dyddiad cau ar gyfer tynnu'n ôl fel ymgeisydd",
    "election_agents": "Y dyddiad cau ar gyfer penodi asiantiaid etholiad",
    "sopn": "Cyhoeddi'r datganiad o'r personau a enwebwyd",
    "election_agents_notice": "Cyhoeddi hysbysiad o enwau a chyfeiriadau swyddfeydd asiantiaid etholiad",
    "first_interim_notice": "Hysbysiad interim cyntaf o newid i'r gofrestr",
    "second_interim_notice": "Ail hysbysiad interim o newid i'r gofrestr",
    "registration": "Y dyddiad cau ar gyfer ceisiadau i gofrestru i bleidleisio",
    "postal_vote": "Y dyddiad cau ar gyfer ceisiadau newydd i bleidleisio drwy'r post, a newidiadau",
    "proxy": "Y dyddiad cau ar gyfer ceisiadau newydd i bleidleisio drwy ddirprwy",
    "vac": (
        "Y dyddiad cau ar gyfer ceisiadau am Dystysgrif Awdurdod Pleidleisiwr neu am Ddogfen Etholwr Dienw"
    ),
    "notice_of_poll": "Cyhoeddi'r hysbysiad o'r bleidlais",
    "polling_stations_notice": "Cyhoeddi'r hysbysiad o leoliad gorsafoedd pleidleisio",
    "final_notice_of_alteration": "Hysbysiad terfynol o newid i'r gofrestr",
    "polling_counting_agents": "Y dyddiad cau ar gyfer penodi asiantiaid pleidleisio a chyfrif",
    "lost_postal_replacement_from": "Y diwrnod cyntaf i ofyn am bleidlais bost newydd yn lle un a gollwyd",
    "poll": "Diwrnod pleidleisio (7 o'r gloch y bore tan 10 o'r gloch yr hwyr)",
    "emergency_proxy": "Y dyddiad cau ar gyfer ceisiadau i bleidleisio drwy ddirprwy mewn argyfwng",
    "replacement_postal_ballots": (
        "Yr amser olaf i gael pleidlais bost newydd yn lle un a gollwyd neu a ddifethwyd"
    ),
    "declaration": "Datgan y canlyniad",
    "expenses_return": "Y dyddiad cau ar gyfer ffurflenni treuliau etholiad ymgeiswyr",
}

# Events whose date is counted from another that may not be fixed yet.
COUNTED_FROM = {"expenses_return": "declaration"}

EXPECTED = " (expected; to be confirmed)"
EXPECTED_CY = " (disgwylir; i'w gadarnhau)"

# The planner's notes, as the definitions write them: a bracket about how a date is set or was
# found, an aside asking someone to check, a remark that the rule itself was not read, what a
# date drives inside pollflow, and the other council's timetable a date was checked against.
_NOTES = (
    re.compile(r"\s*\([^()]*(?:--set|assumed|until set|basis:|derived)[^()]*\)"),
    re.compile(r";\s*check the [^);]*"),
    re.compile(r"\s*[-–]\s*rule text not seen"),
    re.compile(r"\s*The date drives [^.]*\."),
    re.compile(r"\s*\([^()]*published timetable[^()]*\)"),
)
_WORDS = ((re.compile(r"\bPARO\b"), "Police Area Returning Officer"),)


def public(text: str) -> str:
    """A label or citation without the planner's notes."""
    for note in _NOTES:
        text = note.sub("", text)
    for word, meaning in _WORDS:
        text = word.sub(meaning, text)
    return text.strip()


def unset(event: TimetableEvent | None) -> bool:
    """A date someone chooses (the declaration) that nobody has chosen yet: shown at its usual day."""
    return event is not None and event.bound == "assumed" and not event.overridden


def timetable_rows(events: dict[str, TimetableEvent]) -> list[dict]:
    rows = []
    for key in CANDIDATE_EVENTS:
        event = events.get(key)
        if event is None:
            continue
        row = event_texts(event)
        row["label"] = LABELS.get(key) or public(event.label)
        row["label_cy"] = TIMETABLE_CY.get(key)
        row["citation"] = public(event.citation)
        if unset(event) or unset(events.get(COUNTED_FROM.get(key, ""))):
            row["when"] += EXPECTED
            row["when_cy"] += EXPECTED_CY
        rows.append(row)
    return rows
