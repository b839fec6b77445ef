"""A poll called at short notice (a general election by dissolution, a by-election by its writ)
has no work due before it was called: the catalogue's months-ahead planning falls due that day,
in the order it is planned in; a scheduled poll keeps its months-ahead plan."""

from __future__ import annotations

import datetime as dt

import pytest

from timetables import timetable_for
from timetables.short_notice import SHORT_NOTICE
from timetables.work import plan_work


@pytest.mark.parametrize(
    "election_id,called",
    [
        ("parl.2024-07-04", dt.date(2024, 5, 30)),  # Parliament dissolved on Thursday 30 May 2024
        ("parl.runcorn-and-helsby.by.2025-05-01", dt.date(2025, 3, 24)),  # the earliest writ
    ],
)
def test_no_work_is_due_before_the_poll_was_called(election_id, called):
    tasks = plan_work(timetable_for(election_id, nation="england"))
    assert min(t.due.date() for t in tasks) == called
    brought = [t for t in tasks if t.description and SHORT_NOTICE in t.description]
    assert brought and all(t.due.date() == called for t in brought)
    assert {"project_plan", "book_count_venue", "book_polling_stations"} <= {t.task for t in brought}
    by_key = {t.key: t for t in tasks}
    assert all(by_key[d].due <= t.due for t in tasks for d in t.depends_on)  # still in order


def test_a_scheduled_poll_keeps_its_months_ahead_plan():
    tasks = plan_work(timetable_for("local.x.2027-05-06", nation="england"))
    assert min(t.due.date() for t in tasks) < dt.date(2026, 11, 1)
    assert not [t for t in tasks if t.description and SHORT_NOTICE in t.description]
