"""Shared fixtures: private homes, the store on SQLite and PostgreSQL, real SMTP and HTTP servers,
and Prefect's test harness, started once per session."""

import os
import tempfile
from dataclasses import dataclass

# Before anything imports Prefect or reads POLLFLOW_HOME: nothing touches the developer's own
# ~/.pollflow or ~/.prefect, Prefect stays quiet and persists events quickly.
os.environ["POLLFLOW_HOME"] = tempfile.mkdtemp(prefix="pollflow-tests-")
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-tests-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL", "0.5")
os.environ.pop("PREFECT_API_URL", None)
# The alert policy without quiet hours (tests/support/alerts.yaml says why).
os.environ["POLLFLOW_ALERTS_CONFIG"] = os.path.join(os.path.dirname(__file__), "support", "alerts.yaml")
for name in ("POLLFLOW_DATABASE_URL", "POLLFLOW_SMTP_URL", "POLLFLOW_NOTIFY_API_KEY", "POLLFLOW_WEBHOOK_URL"):
    os.environ.pop(name, None)

import pytest  # noqa: E402

from store.scratch import throwaway_schema, unavailable  # noqa: E402
from timetables import calendars  # noqa: E402

POSTGRES_URL = os.environ.get("POLLFLOW_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("POLLFLOW_REQUIRE_POSTGRES") == "1"
_postgres_error: list = []


def postgres_available() -> str | None:
    """None if the test server answers, else why not (asked once per session)."""
    if not _postgres_error:
        _postgres_error.append(unavailable(POSTGRES_URL))
    return _postgres_error[0]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Each test gets its own POLLFLOW_HOME, so refreshed data and added days never leak."""
    path = tmp_path / "pollflow-home"
    path.mkdir()
    monkeypatch.setenv("POLLFLOW_HOME", str(path))
    yield path
    if any(path.glob("*.json")) or any(path.glob("*.yaml")):
        calendars.reload()  # the test changed the data calendars are built from


@dataclass
class Store:
    backend: str
    url: str

    @property
    def engine(self):
        from store.db import get_engine

        return get_engine(self.url)

    def session(self):
        from store.db import session_scope

        return session_scope(self.engine)


def make_store(backend: str, tmp_path):
    """A fresh, migrated store; yields it, then drops it."""
    from store.db import dispose

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'pollflow.db'}"
        yield Store(backend, url)
        dispose(url)
        return
    reason = postgres_available()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(f"POLLFLOW_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    with throwaway_schema(POSTGRES_URL) as url:
        yield Store(backend, url)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path, monkeypatch):
    """The store, once on SQLite and once on PostgreSQL; flows find it through the environment."""
    for made in make_store(request.param, tmp_path):
        monkeypatch.setenv("POLLFLOW_DATABASE_URL", made.url)
        yield made


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    for made in make_store("sqlite", tmp_path):
        monkeypatch.setenv("POLLFLOW_DATABASE_URL", made.url)
        yield made


@pytest.fixture
def postgres_store(tmp_path, monkeypatch):
    for made in make_store("postgres", tmp_path):
        monkeypatch.setenv("POLLFLOW_DATABASE_URL", made.url)
        yield made


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on localhost, named by POLLFLOW_SMTP_URL."""
    from tests.support.fakes import SmtpServer

    server = SmtpServer().start()
    monkeypatch.setenv("POLLFLOW_SMTP_URL", server.url)
    yield server
    server.stop()


@pytest.fixture
def notify(monkeypatch):
    """A local HTTP server speaking GOV.UK Notify's API, configured as pollflow's Notify."""
    from tests.support import fakes

    server = fakes.FakeNotify()
    monkeypatch.setenv("POLLFLOW_NOTIFY_API_KEY", fakes.NOTIFY_API_KEY)
    monkeypatch.setenv("POLLFLOW_NOTIFY_BASE_URL", server.url)
    monkeypatch.setenv("POLLFLOW_NOTIFY_EMAIL_TEMPLATE", fakes.NOTIFY_EMAIL_TEMPLATE)
    monkeypatch.setenv("POLLFLOW_NOTIFY_SMS_TEMPLATE", fakes.NOTIFY_SMS_TEMPLATE)
    yield server
    server.stop()


@pytest.fixture
def webhook(monkeypatch):
    from tests.support.fakes import WebhookReceiver

    receiver = WebhookReceiver()
    monkeypatch.setenv("POLLFLOW_WEBHOOK_URL", receiver.url)
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def prefect():
    """Prefect's test harness, started once for the whole session (it takes ~10 s)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture
def web_server(monkeypatch):
    """pollflow's web service (uvicorn) on a free local port; yields its base URL."""
    import threading
    import time

    import requests
    import uvicorn

    from pollflow.web import create_app, signin
    from tests.support.fakes import free_port

    signin._failures.clear()  # a new server, a new sign-in throttle (every test comes from 127.0.0.1)
    port = free_port()
    monkeypatch.setenv("POLLFLOW_PUBLIC_URL", f"http://127.0.0.1:{port}")
    # The links staff are sent lead here, to this machine: as on a training machine, meant.
    monkeypatch.setenv("POLLFLOW_ALLOW_LOCAL_LINKS", "1")
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/health", timeout=0.5).ok:
                break
        except requests.RequestException:
            time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


# A real browser for pages: Debian's Chromium, driven by Playwright. `make test` installs Chromium
# where it can; .ci/run sets POLLFLOW_REQUIRE_BROWSER=1 so that on CI a missing browser fails.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, started once per module that drives pages. Not once per session:
    Playwright's sync API keeps an asyncio loop running in this thread while it is open, and
    Prefect then takes later tests for async code (``to_deployment`` hands back a coroutine)."""
    missing = None
    try:
        from playwright import sync_api
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[dev]')"
    if missing is None and not os.path.exists(CHROMIUM):
        missing = f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if missing:
        if os.environ.get("POLLFLOW_REQUIRE_BROWSER") == "1":
            pytest.fail(f"POLLFLOW_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
