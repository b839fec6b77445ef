"""What pollflow does not build for Northern Ireland (timetables/data/gaps.yaml) is said, in one
warning per gap, on every timetable it touches; and a gap is never claimed for what is built."""

from __future__ import annotations

import pytest

from timetables import gaps, timetable_for
from timetables.definitions import definitions

NI_POLLS = [
    ("local.belfast.2023-05-18", None),
    ("nia.2022-05-05", None),
    ("parl.2024-07-04", "northern-ireland"),
    ("parl.x.by.2024-11-28", "northern-ireland"),
    ("ref.2016-06-23", "northern-ireland"),
]


# The events a gap's warning says are missing (the events' keys where pollflow builds them).
MISSING = {
    "absent-vote applications": "emergency_proxy",
    "lost or spoilt postal": "replacement_postal_ballots",
}


@pytest.mark.parametrize("election_id,nation", NI_POLLS)
def test_northern_ireland_timetables_name_what_they_leave_out(election_id, nation):
    tt = timetable_for(election_id, nation=nation) if nation else timetable_for(election_id)
    said = [w for w in tt.warnings if w.startswith("not in this timetable: ")]
    assert said and all("Electoral Office for Northern Ireland" in w for w in said)
    keys = {e.key for e in tt.events}
    for warning in said:  # never a warning of something the timetable has
        for phrase, key in MISSING.items():
            if phrase in warning:
                assert key not in keys, (election_id, key)
    # The referendum's conduct regulations give Northern Ireland emergency proxies: no warning.
    if election_id.startswith("ref."):
        assert "emergency_proxy" in keys and not any("absent-vote" in w for w in said)
    else:
        assert any("emergency) absent-vote applications" in w for w in said)


def test_gb_timetables_have_no_such_warning():
    for election_id in ("local.x.2027-05-06", "parl.2024-07-04", "ref.2016-06-23"):
        tt = timetable_for(election_id, nation="england")
        assert not [w for w in tt.warnings if w.startswith("not in this timetable")], election_id


def test_every_gap_names_real_kinds_and_nations():
    defs = definitions()
    for gap in gaps._all():
        assert set(gap.kinds) <= set(defs.kinds), gap.kinds
        for kind in gap.kinds:
            for nation in gap.nations:
                assert defs.get(kind, nation) is not None, (kind, nation)
