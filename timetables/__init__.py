"""pollflow's timetable engine: every UK poll as a declarative timetable.

Pure Python (no database, no Prefect)::

    from timetables import timetable_for
    tt = timetable_for("local.hart.2026-05-07")
    tt["close_of_nominations"].date, tt["close_of_nominations"].time
"""

from timetables.compute import timetable_for
from timetables.errors import PollflowError
from timetables.model import ElectionRef, Event, Timetable

__all__ = ["ElectionRef", "Event", "PollflowError", "Timetable", "timetable_for"]
