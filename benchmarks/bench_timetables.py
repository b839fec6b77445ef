"""Timetables for every kind and nation on every Thursday of 2024 to 2027.

Reports microseconds per full timetable (every applicable event) and the ratio against
Democracy Club's uk-election-timetables (six events per timetable) on the same polls.
Target: at least 50 times faster per timetable.
"""

import datetime as dt
import time

from uk_election_timetables.calendars import Country
from uk_election_timetables.election_ids import from_election_id

from timetables import timetable_for
from timetables.definitions import definitions
from timetables.errors import PollDateError

THURSDAYS = [
    dt.date(2024, 1, 4) + dt.timedelta(weeks=n)
    for n in range(53 * 4)
    if (dt.date(2024, 1, 4) + dt.timedelta(weeks=n)).year <= 2027
]
ID_FOR_KIND = {
    "parl": "parl.{}",
    "parl-by": "parl.x.by.{}",
    "local": "local.x.{}",
    "parish": "local.x.{}",
    "community": "local.x.{}",
    "la-mayor": "mayor.x.{}",
    "ca-mayor": "mayor.x.{}",
    "pcc": "pcc.x.{}",
    "gla": "gla.{}",
    "senedd": "senedd.{}",
    "sp": "sp.{}",
    "nia": "nia.{}",
    "ref": "ref.{}",
    "ref-local": "ref.x.{}",
    "recall": "recall.x.{}",
}
COUNTRY = {
    "england": Country.ENGLAND,
    "wales": Country.WALES,
    "scotland": Country.SCOTLAND,
    "northern-ireland": Country.NORTHERN_IRELAND,
}
# The kinds Democracy Club's library supports, with the country it needs for them.
DC_KINDS = {
    "parl",
    "local",
    "la-mayor",
    "ca-mayor",
    "pcc",
    "gla",
    "senedd",
    "sp",
    "nia",
    "ref-local",
}
ROUNDS = 5


def polls():
    """(our id, kind, nation) for every kind, nation and Thursday that is a working day."""
    found = []
    for kind, info in sorted(definitions().kinds.items()):
        if kind not in ID_FOR_KIND:
            continue  # a registration year has no polling day: see bench_canvass
        for nation in info.nations:
            for day in THURSDAYS:
                election_id = ID_FOR_KIND[kind].format(day)
                try:
                    timetable_for(election_id, kind=kind, nation=nation)
                except PollDateError:
                    continue
                found.append((election_id, kind, nation))
    return found


def best(fn, rounds=ROUNDS):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run():
    everything = polls()
    shared = [p for p in everything if p[1] in DC_KINDS]
    events = sum(len(timetable_for(i, kind=k, nation=n).events) for i, k, n in everything)

    def ours(items):
        for election_id, kind, nation in items:
            timetable_for(election_id, kind=kind, nation=nation)

    def theirs():
        for election_id, kind, nation in shared:
            country = COUNTRY[nation] if kind in ("parl", "local", "ref-local") else None
            _ = from_election_id(election_id, country).timetable

    all_time = best(lambda: ours(everything))
    our_time = best(lambda: ours(shared))
    their_time = best(theirs)
    per_ours = our_time / len(shared) * 1e6
    per_theirs = their_time / len(shared) * 1e6
    ratio = per_theirs / per_ours
    print(
        f"polls: {len(everything)} timetables over {len(definitions().kinds)} kinds, "
        f"{events / len(everything):.1f} events each on average"
    )
    print(f"pollflow, every kind and nation: {all_time / len(everything) * 1e6:8.1f} us/timetable")
    print(f"pollflow, kinds both support:    {per_ours:8.1f} us/timetable ({len(shared)} polls)")
    print(f"uk-election-timetables, same:    {per_theirs:8.1f} us/timetable (6 events each)")
    print(
        f"ratio: {ratio:.1f}x faster per timetable (target: at least 50x) "
        f"{'MET' if ratio >= 50 else 'NOT MET'}"
    )
