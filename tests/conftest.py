"""Shared fixtures: a private POLLFLOW_HOME for the session and for every test."""

import os
import tempfile

import pytest

# Before anything reads it: never the developer's own ~/.pollflow, not even in class fixtures.
os.environ["POLLFLOW_HOME"] = tempfile.mkdtemp(prefix="pollflow-tests-")

from timetables import calendars  # noqa: E402


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Each test gets its own POLLFLOW_HOME, so refreshed data and added days never leak."""
    path = tmp_path / "pollflow-home"
    path.mkdir()
    monkeypatch.setenv("POLLFLOW_HOME", str(path))
    yield path
    if any(path.glob("*.json")) or any(path.glob("*.yaml")):
        calendars.reload()  # the test changed the data calendars are built from
