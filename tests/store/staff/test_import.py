"""Importing polling stations from each EMS's export and the staff register: a good file imports
(and again changes nothing); a bad one is refused whole, every bad row named by line and reason,
nothing written; --skip-bad-rows imports the rest and reports what it skipped. Bank details and
NI numbers never appear in a message. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select

from pollflow.cli import main
from store.models import AuditEntry
from store.models.staff import PollingDistrict, PollingPlace, PollingStation, StaffMember
from store.staff.register_import import read_staff, save_staff
from store.staff.stations import read_electorates, read_stations, save_electorates, save_stations
from store.tables import ImportRefused, normalise_postcode
from tests.support.staff import FIXTURES
from timetables.errors import PollflowError

EXPECTED = {"W01": 1180, "W02": 1900, "W03": 640}


def count(session, table) -> int:
    return session.scalar(select(func.count()).select_from(table))


@pytest.mark.parametrize(
    ("name", "fmt", "codes"),
    [
        ("xpress_democracyclub.csv", "xpress", ["W01", "W02", "W03"]),
        ("eros.csv", "eros", ["12", "13", "14"]),
        ("democracy_counts.csv", "democracy-counts", ["W01", "W02", "W03"]),
        ("pollflow_stations.csv", "pollflow", ["W01", "W02", "W03"]),
        ("pollflow_stations.xlsx", "pollflow", ["W01", "W02", "W03"]),
    ],
)
def test_each_ems_export_reads_its_stations_and_electorates(name, fmt, codes):
    parsed = read_stations(FIXTURES / name)
    assert parsed.format == fmt  # told from the columns
    assert [s.code for s in parsed.stations] == codes
    assert [s.electorate for s in parsed.stations] == list(EXPECTED.values())
    assert not parsed.skipped and not parsed.warnings
    first = parsed.stations[0]
    assert first.postcode == "OX7 1AA" and (first.easting, first.northing) == (431200, 226900)
    assert first.name == "St Mary's Church Hall"


def test_per_property_exports_collect_districts_and_count_properties():
    xpress = {s.code: s for s in read_stations(FIXTURES / "xpress_democracyclub.csv").stations}
    assert sorted(xpress["W02"].districts) == ["AB", "AC"] and xpress["W02"].properties == 6
    assert xpress["W01"].area == "Wychwood North"
    eros = {s.code: s for s in read_stations(FIXTURES / "eros.csv").stations}
    assert eros["13"].place_ref == eros["14"].place_ref == "V2"  # two stations at one venue
    assert eros["13"].districts == {"AB": "Wychwood North AB", "AC": "Wychwood North AC"}


def test_stations_save_once_with_places_and_districts(store):
    parsed = read_stations(FIXTURES / "eros.csv")
    with store.session() as s:
        first = save_stations(s, parsed, "test")
    with store.session() as s:
        again = save_stations(s, parsed, "test")
        assert first.added == ["12", "13", "14"] and not again.changed and again.unchanged == 3
        assert (
            count(s, PollingStation) == 3 and count(s, PollingPlace) == 2 and count(s, PollingDistrict) == 4
        )
        assert count(s, AuditEntry) == 1  # the second import changed nothing, so recorded nothing
        station = s.scalars(select(PollingStation).where(PollingStation.code == "13")).one()
        assert (
            station.source == "eros:eros.csv" and station.districts == "AB, AC" and station.electorate == 1900
        )


def test_replace_retires_stations_not_in_the_file_and_merge_keeps_them(store, tmp_path):
    with store.session() as s:
        save_stations(s, read_stations(FIXTURES / "pollflow_stations.csv"), "test")
    smaller = tmp_path / "two.csv"
    smaller.write_text("\n".join((FIXTURES / "pollflow_stations.csv").read_text().splitlines()[:3]) + "\n")
    with store.session() as s:
        merged = save_stations(s, read_stations(smaller), "test")
        assert not merged.deactivated and count(s, PollingStation) == 3
    with store.session() as s:
        replaced = save_stations(s, read_stations(smaller), "test", replace=True)
        assert replaced.deactivated == ["W03"]
        assert not s.scalars(select(PollingStation).where(PollingStation.code == "W03")).one().active


def refused(path, **kw) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        read_stations(path, **kw)
    assert "\n" not in str(caught.value) and "nothing imported" in str(caught.value)
    return caught.value


def test_missing_columns_are_named_with_what_the_format_needs():
    with pytest.raises(PollflowError) as caught:
        read_stations(FIXTURES / "xpress_missing_columns.csv", format="xpress")
    message = str(caught.value)
    assert "missing column(s) pollingplacepostcode" in message and "Polling_Place_Postcode" in message
    with pytest.raises(PollflowError, match="cannot tell which system exported this file: give --format"):
        read_stations(FIXTURES / "xpress_missing_columns.csv")
    with pytest.raises(PollflowError, match="unknown format 'civica': formats are xpress, eros"):
        read_stations(FIXTURES / "eros.csv", format="civica")


def test_bad_postcodes_are_refused_by_line_and_skipped_on_request():
    error = refused(FIXTURES / "xpress_bad_postcodes.csv")
    assert [(p.line, p.reason) for p in error.problems] == [
        (3, "Polling_Place_Postcode: 'OX7 1A' is not a UK postcode"),
        (6, "property Post_Code: 'NOT A POSTCODE' is not a UK postcode"),
    ]
    parsed = read_stations(FIXTURES / "xpress_bad_postcodes.csv", skip_bad_rows=True)
    assert [p.line for p in parsed.skipped] == [3, 6]
    assert {s.code: s.electorate for s in parsed.stations} == {"W01": 788, "W02": 1900, "W03": 640}
    assert any("skipped property row(s) are not counted" in w for w in parsed.warnings)


def test_duplicate_stations_are_refused():
    eros = refused(FIXTURES / "eros_duplicate_station.csv")
    assert eros.problems[0].line == 9
    assert "station 13 is also on line 8 with a different name" in eros.problems[0].reason
    counts = refused(FIXTURES / "democracy_counts_duplicate_station.csv")
    assert [(p.line, p.reason) for p in counts.problems] == [
        (5, "station W01 is also on line 2: give each station once")
    ]


def test_an_electorate_that_is_not_a_number_is_refused_with_every_bad_line():
    error = refused(FIXTURES / "pollflow_bad_electorate.csv")
    assert [(p.line, p.reason) for p in error.problems] == [
        (3, "electorate 'about 1900' is not a number"),
        (4, "easting 'east' is not a number"),
        (4, "give both easting and northing, or neither"),
    ]
    assert "(fix them, or import the good rows with --skip-bad-rows)" in str(error)


def test_many_bad_rows_still_name_every_line(tmp_path):
    lines = ["code,name,postcode,electorate"] + [f"S{n},Hall {n},OX7 1AA,lots" for n in range(1, 13)]
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n")
    message = str(refused(path))
    assert "12 bad row(s)" in message and "and 7 more (bad lines: 2-13)" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ox71aa", "OX7 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("  b1  1aa ", "B1 1AA"),
        ("", None),
        ("BFPO 105", "BFPO 105"),
    ],
)
def test_postcodes_are_normalised(text, expected):
    assert normalise_postcode(text) == expected


@pytest.mark.parametrize("text", ["OX7 1CA", "OX7", "12345", "OX7 1AAA", "QX7 1AA"])
def test_postcodes_that_cannot_exist_are_refused(text):
    with pytest.raises(ValueError, match="is not a UK postcode"):
        normalise_postcode(text)


def test_other_unreadable_files_are_one_clear_line(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(PollflowError, match="the file is empty"):
        read_stations(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("code,name,postcode,electorate\n")
    with pytest.raises(PollflowError, match="no rows, only the header line"):
        read_stations(header_only)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(PollflowError, match=r"old Excel \(.xls\) files cannot be read"):
        read_stations(old)
    fake = tmp_path / "fake.xlsx"
    fake.write_text("not a workbook")
    with pytest.raises(PollflowError, match="not a readable Excel workbook"):
        read_stations(fake)
    with pytest.raises(PollflowError, match="no such file"):
        read_stations(tmp_path / "missing.csv")


def test_windows_1252_and_tab_separated_exports_read(tmp_path):
    text = "StationCode\tPlaceName\tPostCode\tElectorate\r\nW09\tCaf\xe9 Hall \u2013 Annexe\tOX7 1AA\t900\r\n"
    path = tmp_path / "dc.tsv"
    path.write_bytes(text.encode("cp1252"))
    parsed = read_stations(path)
    assert parsed.format == "democracy-counts" and parsed.stations[0].name == "Caf\xe9 Hall \u2013 Annexe"


def test_electorates_from_the_ems_report_by_district(store, tmp_path):
    report = tmp_path / "electorate.csv"
    report.write_text("district,electorate,postal_voters\nAA,1200,200\nAB,1000,100\nAC,950,50\nAD,600,90\n")
    with store.session() as s:
        save_stations(s, read_stations(FIXTURES / "eros.csv"), "test")
        changed = save_electorates(s, read_electorates(s, report), "test")
        assert changed == ["12", "13", "14"]
        by_code = {st.code: (st.electorate, st.postal_voters) for st in s.scalars(select(PollingStation))}
        assert by_code == {"12": (1200, 200), "13": (1950, 150), "14": (600, 90)}
    bad = tmp_path / "bad.csv"
    bad.write_text("district,electorate\nZZ,100\nAA,many\n")
    with store.session() as s, pytest.raises(ImportRefused) as caught:
        read_electorates(s, bad)
    assert [p.line for p in caught.value.problems] == [2, 3]
    assert "no polling district 'ZZ'" in caught.value.problems[0].reason


# --- the staff register ---------------------------------------------------------------------------


def test_the_staff_register_imports_roles_experience_and_preferences(store):
    parsed = read_staff(FIXTURES / "staff.csv")
    with store.session() as s:
        first = save_staff(s, parsed, "test")
    with store.session() as s:
        again = save_staff(s, read_staff(FIXTURES / "staff.csv"), "test")
        assert len(first.added) == 3 and first.sensitive_stored == 1
        assert not again.added and not again.updated and again.unchanged == 3 and again.sensitive_stored == 0
        robin = s.scalars(select(StaffMember).where(StaffMember.email == "robin@example.org")).one()
        assert robin.roles == ["poll-clerk"] and robin.experience == {"poll-clerk": 2}
        assert robin.preferred_colleagues == ["pat@example.org"] and robin.preferred_area == "Wychwood North"
        sam = s.scalars(select(StaffMember).where(StaffMember.email == "sam@example.org")).one()
        assert sam.roles == ["poll-clerk", "count-assistant"] and sam.postcode == "OX7 3DF"


def test_a_bad_staff_file_is_refused_whole_without_showing_bank_details(store):
    with pytest.raises(ImportRefused) as caught:
        read_staff(FIXTURES / "staff_bad.csv")
    message = str(caught.value)
    reasons = [(p.line, p.reason) for p in caught.value.problems]
    assert (3, "'not-an-email' is not a valid email address") in reasons
    assert any(line == 4 and "unknown role(s) returning-officer" in r for line, r in reasons)
    assert (5, "ni_number is not a National Insurance number like AB123456C (value not shown)") in reasons
    assert (5, "sort_code is not 6 digits (value not shown)") in reasons
    assert (6, "postcode: 'ZZ99' is not a UK postcode") in reasons
    for secret in ("AB12X", "99-99", "98765"):
        assert secret not in message
    with store.session() as s:
        assert count(s, StaffMember) == 0  # nothing half-imported
    skipped = read_staff(FIXTURES / "staff_bad.csv", skip_bad_rows=True)
    assert [r.values["email"] for r in skipped.records] == ["alex@example.org"]
    assert sorted({p.line for p in skipped.skipped}) == [3, 4, 5, 6]


def test_staff_import_names_unknown_and_missing_columns(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("name,email\nA,a@example.org\n")
    with pytest.raises(PollflowError, match="missing column.s. roles: the columns are name, email, phone"):
        read_staff(path)
    path.write_text("name,email,roles,shoe_size\nA,a@example.org,poll-clerk,9\n")
    with pytest.raises(PollflowError, match="unknown column.s. shoesize"):
        read_staff(path)
    path.write_text("name,email,roles,experience\nA,a@example.org,PO,presiding:three\n")
    with pytest.raises(ImportRefused, match="experience 'presiding:three' is not ROLE:POLLS"):
        read_staff(path)


# --- the command line -----------------------------------------------------------------------------


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_stations_import_command(sqlite_store, capsys, tmp_path):
    code, out, err = run(capsys, "stations", "import", str(FIXTURES / "eros.csv"), "--format", "eros")
    assert code == 0, err
    assert "eros.csv (eros, 18 rows): 3 stations: 3 added, 0 updated, 0 unchanged." in out
    code, out, _ = run(capsys, "stations", "list", "--format", "json")
    assert code == 0 and [s["need"] for s in __import__("json").loads(out)] == [
        {"presiding-officer": 1, "poll-clerk": 2},
        {"presiding-officer": 1, "poll-clerk": 3},
        {"presiding-officer": 1, "poll-clerk": 2},
    ]
    report = tmp_path / "bad-rows.csv"
    code, out, err = run(
        capsys, "stations", "import", str(FIXTURES / "pollflow_bad_electorate.csv"), "--report", str(report)
    )
    assert code == 2 and err.startswith("pollflow: every bad row is listed in")
    assert "line 3: electorate 'about 1900' is not a number" in err.splitlines()[-1]
    assert report.read_text().splitlines()[1] == "3,electorate 'about 1900' is not a number"
    code, out, _ = run(
        capsys, "stations", "import", str(FIXTURES / "pollflow_bad_electorate.csv"), "--skip-bad-rows"
    )
    assert code == 0 and "Skipped 2 bad row(s):" in out and "line 4: easting 'east' is not a number" in out


def test_staff_import_command_never_prints_bank_details(sqlite_store, capsys):
    code, out, err = run(capsys, "staff", "import", str(FIXTURES / "staff.csv"))
    assert code == 0, err
    assert "3 added" in out and "bank or NI details stored (encrypted) for 1" in out
    code, out, _ = run(capsys, "staff", "list", "--format", "json")
    assert code == 0 and "12345678" not in out and "AB123456C" not in out
    assert [p["bank_or_ni_details_held"] for p in __import__("json").loads(out)] == [True, False, False]
    with sqlite_store.session() as s:
        pat = s.scalars(select(StaffMember).where(StaffMember.email == "pat@example.org")).one()
        assert "12345678" not in pat.sensitive and "AB123456C" not in pat.sensitive  # encrypted at rest
        trail = " ".join(str(e.details) for e in s.scalars(select(AuditEntry)))
        assert "12345678" not in trail and "AB123456C" not in trail
