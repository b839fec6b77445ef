"""The staff tables' hand-written migration matches the models (and comes off and on again), on
SQLite and PostgreSQL; payroll amounts are exact to the penny; letters render strictly."""

from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import store.models.staff  # noqa: F401  (registers the tables)
from store.staff import recruitment as staff_recruitment
from store.staff.config import fee_schedule
from store.staff.payroll import payroll_lines
from tasks import staffing
from tasks.documents.rendering import MissingFieldError, render_html
from tests.support.staff import BEFORE_INVITES, everyone_available, offer_of, posts, setup_poll, start

STAFF_TABLES = {
    "polling_place",
    "polling_station",
    "polling_district",
    "staff_member",
    "staffing_plan",
    "staff_recruitment",
    "staff_post",
    "staff_offer",
    "staff_training_session",
    "staff_training_booking",
}


def test_the_migration_matches_the_models(store):
    with store.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= STAFF_TABLES
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    ours = [d for d in diff if any(t in repr(d) for t in STAFF_TABLES)]
    assert ours == []
    with store.engine.connect() as connection:
        uniques = {tuple(u["column_names"]) for u in inspect(connection).get_unique_constraints("staff_post")}
        assert ("staff_id", "duty_date") in uniques and ("poll_id", "key") in uniques


def test_the_staff_branch_comes_off_and_on_again(sqlite_store):
    from alembic import command

    from store.db import alembic_config

    config = alembic_config(sqlite_store.engine)
    command.downgrade(config, "0002_staff@-1")  # this branch only: the core stays
    with sqlite_store.engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
    assert not names & STAFF_TABLES and "work_item" in names
    command.upgrade(config, "heads")
    with sqlite_store.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= STAFF_TABLES


def test_payroll_lines_are_exact(store):
    fees = fee_schedule()
    with store.session() as s:
        poll = setup_poll(s)
        plan, _ = start(s, poll)
        staff_recruitment.invite(s, poll, plan, "test", as_of=BEFORE_INVITES)
        everyone_available(s, poll)
    staffing.fill(poll.id, "test", first=True)
    staffing.send_offers(poll.id, "test")
    with store.session() as s:
        for post in posts(s, poll):
            staff_recruitment.answer_offer(s, offer_of(s, post), True, via="test", actor="test")
    with store.session() as s:
        lines = payroll_lines(s, poll, fees)
        by_element: dict[str, Decimal] = {}
        for line in lines:
            by_element[line.element] = by_element.get(line.element, Decimal(0)) + line.amount
        assert by_element["ELF01"] == Decimal("795.00")  # 3 presiding officers at £265
        assert by_element["ELF02"] == Decimal("1225.00")  # 7 clerks at £175
        assert by_element["ELF20"] == Decimal("90.00")  # ballot box collection, 3 x £30
        assert by_element["ELF21"] == Decimal("250.00")  # combined poll supplement, 10 x £25
        assert by_element["ELF04"] == Decimal("760.00")  # 8 postal opening sessions at £95
        assert "ELF10" not in by_element  # nobody trained yet
        assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in lines)
        mileage = [line for line in lines if line.element == "ELF30"]
        assert mileage and all(line.rate == Decimal("0.45") for line in mileage)


def test_letters_render_strictly():
    with pytest.raises(MissingFieldError, match="no value for person"):
        render_html("staff/appointment_letter.html.j2", {})
    html = render_html(
        "staff/training_invitation.html.j2",
        dict(
            council={
                "name": "X Council",
                "address": "A",
                "email": "e@x",
                "phone": "1",
                "returning_officer": "RO",
            },
            issued="1 May 2027",
            reference="r",
            person={"name": "A <b>Person</b>", "email": "a@x"},
            poll={"title": "T", "day": "D", "training_deadline": "soon"},
            posts=[{"role": "Poll Clerk", "day": "D", "station": "S"}],
            training=None,
            sessions=[],
            training_fee=None,
            link="http://x/staff/respond/t",
        ),
    )
    assert "A &lt;b&gt;Person&lt;/b&gt;" in html  # escaped, never markup
