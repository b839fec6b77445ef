"""The definition files: valid, complete, and refused clearly when they are not."""

import json
import textwrap

import pytest

from timetables import paths
from timetables.compute import plan_for
from timetables.definitions import definitions, load_definitions
from timetables.errors import DefinitionError
from timetables.schema import json_schema

KINDS = {
    "parl": {"england", "wales", "scotland", "northern-ireland"},
    "parl-by": {"england", "wales", "scotland", "northern-ireland"},
    "local": {"england", "wales", "scotland", "northern-ireland"},
    "parish": {"england"},
    "community": {"wales"},
    "la-mayor": {"england", "wales"},
    "ca-mayor": {"england"},
    "pcc": {"england", "wales"},
    "gla": {"england"},
    "senedd": {"wales"},
    "sp": {"scotland"},
    "nia": {"northern-ireland"},
    "ref": {"england", "wales", "scotland", "northern-ireland"},
    "ref-local": {"england"},
    "recall": {"england", "wales", "scotland", "northern-ireland"},
    "canvass": {"england", "wales", "scotland"},  # issue 7: Northern Ireland has no annual canvass
}


def test_every_kind_and_nation_the_issue_asks_for_is_defined():
    found = {kind: set(info.nations) for kind, info in definitions().kinds.items()}
    assert found == KINDS


def test_published_json_schema_is_current():
    published = json.loads((paths.DEFINITIONS_DIR / "definition.schema.json").read_text())
    assert published == json_schema(), "run `make schema` after changing timetables/schema.py"


def test_every_rule_cites_its_legislation():
    for (kind, nation), (_, definition) in definitions().by_kind_nation.items():
        for key, event in definition.events.items():
            for rule in event.rules:
                assert len(rule.citation) > 5, (kind, nation, key)


def test_every_plan_compiles():
    for (kind, nation), (_, definition) in definitions().by_kind_nation.items():
        plan = plan_for(kind, nation, 2027 if definition.registration_year else None)
        assert plan.events and plan.poll_calendar


def write(tmp_path, name, text):
    (tmp_path / name).write_text(textwrap.dedent(text))


@pytest.mark.parametrize(
    "text,words",
    [
        (
            "kind: x\nnations: [england]\nevents:\n  a:\n    label: An event\n"
            "    latest: {before: poll, working_days: 3}\n",
            "citation",
        ),
        (
            "kind: x\nnations: [england]\nevents:\n  a:\n    label: An event\n    time: '25:00'\n"
            "    latest: {before: poll, working_days: 3}\n    citation: SI 1/1\n",
            "not HH:MM",
        ),
        ("kind: x\nnations: [atlantis]\nevents: {}\n", "nations"),
        (
            "kind: x\nnations: [england]\nevents:\n  a:\n    label: An event\n"
            "    latest: {before: poll, weeks: 3}\n    citation: SI 1/1\n",
            "weeks",
        ),
        (
            "kind: x\nnations: [england]\nevents:\n  a:\n    label: An event\n"
            "    latest: {before: poll, working_days: 3}\n    on_day: {after: poll, days: 1}\n"
            "    citation: SI 1/1\n",
            "exactly one of",
        ),
        ("nations: [england]\nevents: {}\n", "needs 'kind'"),
    ],
)
def test_invalid_files_are_refused_naming_the_problem(tmp_path, text, words):
    write(tmp_path, "bad.yaml", text)
    with pytest.raises(DefinitionError) as caught:
        load_definitions(tmp_path)
    assert "bad.yaml" in str(caught.value) and words in str(caught.value)


def test_extends_must_name_a_file(tmp_path):
    write(tmp_path, "a.yaml", "kind: a\nnations: [england]\nextends: missing.yaml\n")
    with pytest.raises(DefinitionError, match="extends 'missing.yaml'"):
        load_definitions(tmp_path)


def test_a_child_file_removes_an_inherited_event_with_null(tmp_path):
    write(
        tmp_path,
        "_base.yaml",
        """\
        events:
          a: {label: First event, latest: {before: poll, working_days: 3}, citation: SI 1/1}
          b: {label: Second event, latest: {before: poll, working_days: 2}, citation: SI 1/2}
        """,
    )
    write(tmp_path, "k.yaml", "kind: k\nnations: [england]\nextends: _base.yaml\nevents:\n  b: null\n")
    assert set(load_definitions(tmp_path).get("k", "england").events) == {"a"}


def test_a_national_referendum_takes_the_shared_work_catalogue_with_its_own_versions():
    from timetables import timetable_for
    from timetables.work import plan_work

    # The 23 June 2016 EU referendum pattern.
    work = {w.key: w for w in plan_work(timetable_for("ref.2016-06-23", nation="england"))}
    assert {"project_plan", "book_polling_stations", "declaration_of_result", "pay_staff"} <= set(work)
    assert not {"nominations", "publish_sopn", "candidate_agent_briefing"} & set(work)
    # Its own postal vote issue waits for the ballot paper sign-off, counted from polling day.
    issue = work["postal_vote_issue"]
    assert (
        issue.depends_on == ("sign_off_ballot_papers",) and issue.due.date().isoformat() == "2016-05-27"
    )  # over the 30 May bank holiday


def test_tasks_from_a_missing_file_is_refused(tmp_path):
    write(
        tmp_path,
        "x.yaml",
        """\
        kind: x
        nations: [england]
        tasks_from: _nowhere.yaml
        events:
          a:
            label: An event
            latest: {before: poll, working_days: 3}
            citation: SI 1/1
        """,
    )
    with pytest.raises(DefinitionError, match="takes tasks from '_nowhere.yaml'"):
        load_definitions(tmp_path)
