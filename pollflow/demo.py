"""``pollflow demo``: the timetables of the next scheduled polls."""

from __future__ import annotations

from rich.console import Console

from pollflow.formats import render_table
from timetables import timetable_for

# The next scheduled polls at the time of writing, and one illustrative general election.
DEMO_POLLS = (
    ("English local elections, Thursday 6 May 2027", ["local.hart.2027-05-06"], {}),
    ("A UK general election (illustrative date)", ["parl.2029-05-03"], {"nation": "england"}),
    ("Scottish Parliament election, Thursday 1 May 2031", ["sp.2031-05-01"], {}),
)


def run_demo(console: Console) -> None:
    for heading, ids, options in DEMO_POLLS:
        console.rule(heading)
        render_table(timetable_for(ids, **options), console)
        console.print()
