"""People from CSV: a good file imports (and again changes nothing); a bad one is refused whole,
every bad line named, nothing written. On SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select

from store.models import ROLES, AuditEntry, Person, PersonRole
from store.people import BadFileError, read_people_csv, save_people
from timetables.errors import PollflowError

GOOD = """name,email,phone,roles
Alice Manager,Alice@Wychwood.gov.uk,01234 567890,electoral-services-manager
Bob Officer,bob@wychwood.gov.uk,,electoral-services-officer;postal-votes-officer
Carol Returning,carol@wychwood.gov.uk,+44 1234 567891,returning-officer|deputy-returning-officer
"""


def write(tmp_path, text, name="people.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def counts(session):
    return {
        "people": session.scalar(select(func.count()).select_from(Person)),
        "roles": session.scalar(select(func.count()).select_from(PersonRole)),
    }


def roles(session, email):
    person = session.scalars(select(Person).where(Person.email == email)).one()
    return sorted(session.scalars(select(PersonRole.role).where(PersonRole.person_id == person.id)))


def refused(tmp_path, text) -> str:
    with pytest.raises(PollflowError) as caught:
        read_people_csv(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message  # the command line prints it as one line
    return message


def test_a_good_file_reads_with_roles_split_emails_lower_cased_and_phone_optional(tmp_path):
    rows = read_people_csv(write(tmp_path, GOOD))
    assert [r.email for r in rows] == [
        "alice@wychwood.gov.uk",
        "bob@wychwood.gov.uk",
        "carol@wychwood.gov.uk",
    ]
    assert [r.line for r in rows] == [2, 3, 4]
    assert rows[0].phone == "01234 567890" and rows[1].phone is None
    assert rows[1].roles == ["electoral-services-officer", "postal-votes-officer"]
    assert rows[2].roles == ["returning-officer", "deputy-returning-officer"]


def test_roles_may_be_written_as_words_and_separated_by_commas(tmp_path):
    text = (
        "\n"
        "Name, Email, Roles\n"  # headers in any case, phone column left out
        '"Dan Reg",dan@x.gov.uk,"Electoral Registration Officer, staffing-officer"\n'
        "Erin Fin,erin@x.gov.uk,finance-officer,postal-votes-officer\n"  # unquoted: still roles
        "\n"  # a blank line is skipped, and later lines keep their numbers
        ",,\n"  # so is a spreadsheet's empty row
    )
    rows = read_people_csv(write(tmp_path, text))
    assert rows[0].roles == ["electoral-registration-officer", "staffing-officer"]
    assert rows[1].roles == ["finance-officer", "postal-votes-officer"]
    assert rows[0].phone is None
    assert [r.line for r in rows] == [3, 4]


def test_importing_twice_changes_nothing_and_a_changed_role_updates(store, tmp_path):
    path = write(tmp_path, GOOD)
    with store.session() as s:
        first = save_people(s, read_people_csv(path))
        assert (first.added, first.updated, first.unchanged) == (3, 0, 0)
    with store.session() as s:
        before = counts(s)
        assert before == {"people": 3, "roles": 5}
        audit_before = s.scalar(select(func.count()).select_from(AuditEntry))
    with store.session() as s:
        again = save_people(s, read_people_csv(path))
        assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    with store.session() as s:
        assert counts(s) == before
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
        assert s.scalars(select(Person.email).order_by(Person.email)).all() == [
            "alice@wychwood.gov.uk",
            "bob@wychwood.gov.uk",
            "carol@wychwood.gov.uk",
        ]

    changed = GOOD.replace("electoral-services-officer;postal-votes-officer", "staffing-officer")
    with store.session() as s:
        result = save_people(s, read_people_csv(write(tmp_path, changed)))
        assert (result.added, result.updated, result.unchanged) == (0, 1, 2)
    with store.session() as s:
        assert roles(s, "bob@wychwood.gov.uk") == ["staffing-officer"]
        assert roles(s, "carol@wychwood.gov.uk") == ["deputy-returning-officer", "returning-officer"]
        assert counts(s) == {"people": 3, "roles": 4}
        updated = s.scalars(select(AuditEntry).where(AuditEntry.action == "person updated")).one()
        assert updated.subject == "bob@wychwood.gov.uk" and updated.details["roles"] == ["staffing-officer"]


def test_the_same_new_person_twice_in_one_call_is_added_once(store):
    from store.people import PersonRow

    rows = [
        PersonRow(2, "Fay", "Fay@x.gov.uk", None, ["finance-officer"]),
        PersonRow(3, "Fay", "fay@x.gov.uk", None, ["finance-officer", "staffing-officer"]),
    ]
    with store.session() as s:
        result = save_people(s, rows)
        assert (result.added, result.updated) == (1, 1)
    with store.session() as s:
        assert counts(s) == {"people": 1, "roles": 2}


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "name,email,phone,roles\nA,not-an-email,,returning-officer\n",
            ["line 2: 'not-an-email' is not a valid email address"],
            id="invalid-email",
        ),
        pytest.param(
            "name,email,phone,roles\nA,a@x.gov.uk,,returning-officer\nB,b@x.gov.uk,,finance-officer\n"
            "A2,A@X.gov.uk,,staffing-officer\n",
            ["line 4: a@x.gov.uk is also on line 2"],
            id="duplicate-email",
        ),
        pytest.param(
            "name,email,phone,roles\nA,a@x.gov.uk,,returning-officer;wizard\n",
            ["line 2: unknown role(s) wizard: roles are " + ", ".join(ROLES)],
            id="unknown-role",
        ),
        pytest.param(
            "name,email,phone,roles\nA,a@x.gov.uk,call me,returning-officer\n",
            ["line 2: phone 'call me' is not a phone number"],
            id="phone-not-a-number",
        ),
        pytest.param(
            "name,email,phone,roles\n,a@x.gov.uk,,\n",
            ["line 2: no name", "line 2: no roles"],
            id="no-name-no-roles",
        ),
    ],
)
def test_a_bad_line_is_named(tmp_path, text, expected):
    message = refused(tmp_path, text)
    assert "nothing imported" in message
    for part in expected:
        assert part in message


def test_every_bad_line_is_named_and_good_ones_are_not(tmp_path):
    text = (
        "name,email,phone,roles\n"
        "Good One,good@x.gov.uk,,returning-officer\n"
        "Bad Email,bad-email,,returning-officer\n"
        "Bad Role,role@x.gov.uk,,archbishop\n"
        "\n"
        "Bad Phone,phone@x.gov.uk,((((((((,finance-officer\n"
        "Dup,GOOD@x.gov.uk,,finance-officer\n"
    )
    with pytest.raises(BadFileError) as caught:
        read_people_csv(write(tmp_path, text))
    problems = caught.value.problems
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 6", "line 7"]
    assert "line 7: good@x.gov.uk is also on line 2" in problems[-1]
    assert caught.value.lines == [3, 4, 6, 7]


def test_a_long_list_of_problems_still_names_every_bad_line(tmp_path):
    lines = "".join(f"P{n},p{n}-at-x,,returning-officer\n" for n in range(8))
    message = refused(tmp_path, "name,email,phone,roles\n" + lines)
    assert "and 3 more" in message and "bad lines: 2, 3, 4, 5, 6, 7, 8, 9" in message


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param(
            "name,phone,roles\nA,,returning-officer\n",
            "missing column(s) email: the columns are name, email, phone, roles",
            id="missing-column",
        ),
        pytest.param(
            "name;email;phone;roles\nA;a@x.gov.uk;;returning-officer\n",
            "(the header is one column: separate the columns with commas)",
            id="semicolon-separated",
        ),
        pytest.param(
            "name,email,mobile,roles\nA,a@x.gov.uk,01234 567890,returning-officer\n",
            "unknown column(s) mobile: the columns are name, email, phone, roles",
            id="unknown-column",
        ),
        pytest.param("", "the file is empty", id="empty-file"),
        pytest.param("\n  \n", "the file is empty", id="blank-file"),
        pytest.param("name,email,phone,roles\n", "no people in the file", id="header-only"),
        pytest.param(
            "name,roles,email\nA,returning-officer,a@x.gov.uk,extra\n",
            "line 2: 4 fields but 3 columns",
            id="too-many-fields",
        ),
    ],
)
def test_a_bad_file_is_refused_with_what_is_allowed(tmp_path, text, expected):
    assert expected in refused(tmp_path, text)


def test_a_file_that_is_not_utf8_is_refused_clearly(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes("name,email,phone,roles\nRen\xe9e,r@x.gov.uk,,returning-officer\n".encode("cp1252"))
    with pytest.raises(PollflowError, match="not UTF-8 text.*CSV UTF-8"):
        read_people_csv(path)


def test_a_spreadsheets_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(("\ufeff" + GOOD).encode("utf-8"))
    assert len(read_people_csv(path)) == 3


def run(capsys, *args):
    from pollflow.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_imports_a_good_file_and_refuses_a_bad_one_in_one_line(store, tmp_path, capsys):
    bad = write(
        tmp_path,
        "name,email,phone,roles\nA,not-an-email,,returning-officer\nB,b@x.gov.uk,,wizard\n",
        "bad.csv",
    )
    code, out, err = run(capsys, "people", "import", str(bad))
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "nothing imported" in err and "line 2" in err and "line 3" in err and "wizard" in err
    with store.session() as s:
        assert counts(s) == {"people": 0, "roles": 0}
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0

    good = write(tmp_path, GOOD, "good.csv")
    code, out, err = run(capsys, "people", "import", str(good))
    assert code == 0 and err == ""
    assert "3 people: 3 added, 0 updated, 0 unchanged" in out
    code, out, _ = run(capsys, "people", "import", str(good))
    assert code == 0 and "3 people: 0 added, 0 updated, 3 unchanged" in out
    with store.session() as s:
        assert counts(s) == {"people": 3, "roles": 5}


def test_cli_names_a_missing_file(store, tmp_path, capsys):
    code, _, err = run(capsys, "people", "import", str(tmp_path / "nowhere.csv"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "nowhere.csv" in err


def test_a_name_with_a_line_break_is_refused_naming_the_line(tmp_path):
    text = 'name,email,phone,roles\n"Bob\nOfficer",bob@wychwood.gov.uk,,electoral-services-officer\n'
    with pytest.raises(BadFileError, match="line 2.*has a line break or control character: one line only"):
        read_people_csv(write(tmp_path, text))
