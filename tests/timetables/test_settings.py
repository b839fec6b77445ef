"""Settings: one module reads the environment; every setting has its documented default; an empty
value counts as unset; a bad value is refused in one line naming the variable and what is allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pollflow.cli import main
from timetables import settings
from timetables.errors import PollflowError

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = ("timetables", "store", "tasks", "flows", "pollflow", "deployments")


def test_defaults_work_on_a_laptop(home, monkeypatch):
    for name in ("POLLFLOW_DATABASE_URL", "POLLFLOW_PUBLIC_URL", "POLLFLOW_DOCUMENTS_DIR"):
        monkeypatch.delenv(name, raising=False)
    got = settings.load()
    assert got.home == home
    assert got.database_url == f"sqlite:///{home / 'pollflow.db'}"
    assert got.public_url == "http://127.0.0.1:8080"
    assert got.delivery_lease_seconds == 300
    assert got.notify_base_url == "https://api.notifications.service.gov.uk"
    assert got.bank_holidays_url == "https://www.gov.uk/bank-holidays.json"
    assert got.published_dir == home / "published"
    assert got.prefect_home == home / "prefect"
    assert got.smtp_url is None and got.secret_key is None and not got.debug


def test_each_variable_is_read_and_an_empty_one_is_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("POLLFLOW_PUBLIC_URL", "https://elections.wychwood.gov.uk/")
    monkeypatch.setenv("POLLFLOW_DELIVERY_LEASE_SECONDS", "120")
    monkeypatch.setenv("POLLFLOW_DOCUMENTS_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("POLLFLOW_SMTP_URL", "")
    monkeypatch.setenv("POLLFLOW_MAIL_FROM", "Elections <elections@wychwood.gov.uk>")
    got = settings.load()
    assert got.public_url == "https://elections.wychwood.gov.uk"  # no trailing slash in links
    assert got.delivery_lease_seconds == 120
    assert got.published_dir == tmp_path / "site"
    assert got.smtp_url is None
    assert got.mail_from == "Elections <elections@wychwood.gov.uk>"


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1.5"])
def test_a_bad_whole_number_names_the_variable_and_what_is_allowed(monkeypatch, value):
    monkeypatch.setenv("POLLFLOW_DELIVERY_LEASE_SECONDS", value)
    with pytest.raises(PollflowError) as raised:
        settings.load()
    message = str(raised.value)
    assert message == (
        f"POLLFLOW_DELIVERY_LEASE_SECONDS={value!r} is not allowed: give a whole number of 1 or more"
    )


def test_the_cli_says_a_bad_setting_in_one_line_before_prefect_starts(monkeypatch, capsys):

    monkeypatch.setenv("POLLFLOW_DELIVERY_LEASE_SECONDS", "soon")
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "pollflow: error: POLLFLOW_DELIVERY_LEASE_SECONDS='soon' is not allowed: "
        "give a whole number of 1 or more\n"
    )


def test_no_module_but_settings_reads_the_environment():
    # Reads only: the demo and the runtime may set variables for what they start.
    reads = re.compile(r'os\.environ\.get\(|os\.getenv\(|os\.environ\["POLLFLOW_\w+"\](?!\s*=)')
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in APPLICATION
        for path in (ROOT / package).rglob("*.py")
        if path.name != "settings.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if reads.search(line) and "PREFECT_" not in line
    ]
    assert found == []
