import pytest


@pytest.fixture(autouse=True)
def local_links(monkeypatch):
    """These tests run on a test machine: the links staff are sent lead to it, as meant (the
    pre-flight check's own tests, in tests/store/staff/test_preflight.py, turn this off)."""
    monkeypatch.setenv("POLLFLOW_ALLOW_LOCAL_LINKS", "1")
