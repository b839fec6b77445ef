"""Timetables for every kind and nation on every Thursday of 2024 to 2027.

Reports microseconds per full timetable (every applicable event) and the ratio against
Democracy Club's uk-election-timetables (six events per timetable) on the same polls.
Target: at least 50 times faster per timetable.
"""

import datetime as dt
import statistics
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
ROUNDS = 15  # interleaved: each round times both sides back to back, so load hits both alike


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


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


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

    all_time = min(timed(lambda: ours(everything)) for _ in range(3))
    # Interleaved rounds: pollflow then the reference, back to back, ROUNDS times; each round's
    # ratio is taken on its own, so a burst of load on the machine slows both sides of it.
    rounds = []
    for _ in range(ROUNDS):
        mine = timed(lambda: ours(shared))
        reference = timed(theirs)
        rounds.append((mine, reference))
    ratios = sorted(reference / mine for mine, reference in rounds)
    ratio = statistics.median(ratios)
    per_ours = statistics.median(m for m, _ in rounds) / len(shared) * 1e6
    per_theirs = statistics.median(r for _, r in rounds) / len(shared) * 1e6
    print(
        f"polls: {len(everything)} timetables over {len(definitions().kinds)} kinds, "
        f"{events / len(everything):.1f} events each on average"
    )
    print(f"pollflow, every kind and nation: {all_time / len(everything) * 1e6:8.1f} us/timetable")
    print(f"pollflow, kinds both support:    {per_ours:8.1f} us/timetable ({len(shared)} polls)")
    print(f"uk-election-timetables, same:    {per_theirs:8.1f} us/timetable (6 events each)")
    print(
        f"ratio: {ratio:.1f}x faster per timetable, median of {ROUNDS} interleaved rounds "
        f"(slowest round {ratios[0]:.1f}x, fastest {ratios[-1]:.1f}x; target: at least 50x in "
        f"every round) {'MET' if ratios[0] >= 50 else 'NOT MET'}"
    )
