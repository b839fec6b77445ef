"""Deployments: what serve.py and prefect.yaml declare, and, end to end, `pollflow serve` reacting
to pollflow's events on a real Prefect server."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml

from tests.support.identity import token_for

ROOT = Path(__file__).resolve().parents[2]
TRIGGER_KEYS = {
    "type",
    "enabled",
    "name",
    "match",
    "match_related",
    "expect",
    "after",
    "for_each",
    "posture",
    "threshold",
    "within",
    "parameters",
    "description",
}


def test_serve_declares_every_deployment_with_schedules_and_triggers():
    from deployments.serve import deployments

    found = {d.name: d for d in deployments()}
    assert set(found) == {
        "plan-election",
        "replan",
        "check-deadlines",
        "daily-digest",
        "deliver-outbox",
        "run-canvass",
        "canvass-report",
        "recruit-staff",
        "purge-staff-data",
        "produce-documents",
    }
    check = found["check-deadlines"]
    assert [(s.schedule.cron, s.schedule.timezone) for s in check.schedules] == [
        ("*/15 * * * *", "Europe/London")
    ]
    assert check.triggers[0].expect == {"pollflow.election.planned", "pollflow.timetable.changed"}
    digest = found["daily-digest"]
    assert [(s.schedule.cron, s.schedule.timezone) for s in digest.schedules] == [
        ("0 8 * * *", "Europe/London")
    ]
    canvass = found["canvass-report"]  # Monday mornings, before the daily digest
    assert [(s.schedule.cron, s.schedule.timezone) for s in canvass.schedules] == [
        ("30 7 * * 1", "Europe/London")
    ]
    assert found["deliver-outbox"].triggers[0].expect == {
        "pollflow.workitem.completed",
        "pollflow.deadline.missed",
    }


def test_prefect_yaml_matches_serve_and_points_at_real_flows():
    import importlib

    spec = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    names = {d["name"] for d in spec["deployments"]}
    assert names == {
        "plan-election",
        "replan",
        "check-deadlines",
        "daily-digest",
        "deliver-outbox",
        "run-canvass",
        "canvass-report",
        "recruit-staff",
        "purge-staff-data",
        "produce-documents",
    }
    for deployment in spec["deployments"]:
        path, _, function = deployment["entrypoint"].partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert hasattr(getattr(module, function), "to_deployment"), deployment["entrypoint"]
        assert deployment["work_pool"]["name"] == "pollflow"
        for schedule in deployment.get("schedules", []):
            assert schedule["timezone"] == "Europe/London"
        for trigger in deployment.get("triggers", []):
            assert set(trigger) <= TRIGGER_KEYS, f"misspelt trigger key in {deployment['name']}"
            assert trigger["expect"], deployment["name"]


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def flow_runs_of(api: str, deployment: str) -> list:
    response = requests.post(
        f"{api}/flow_runs/filter",
        json={
            "deployments": {"name": {"any_": [deployment]}},
            "limit": 50,
            "sort": "ID_DESC",
            "offset": 0,
        },
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def test_pollflow_serve_reacts_to_events(sqlite_store, smtp, tmp_path):
    """A real Prefect server, every deployment served, and pollflow's events triggering them."""
    from tests.support.fakes import free_port
    from tests.support.helpers import seed_people

    with sqlite_store.session() as s:
        seed_people(s)
    port = free_port()
    env = dict(os.environ)
    env["PREFECT_HOME"] = str(tmp_path / "prefect-serve")
    env.pop("PREFECT_API_URL", None)
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [sys.executable, "-m", "pollflow", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        server_file = Path(os.environ["POLLFLOW_HOME"]) / "prefect-server.json"
        wait_until(server_file.exists, 180, "Prefect's server")
        assert json.loads(server_file.read_text())["api_url"] == api
        # The Prefect UI (the audit dashboard) calls this server's API, not the default port's.
        wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/ui-settings", timeout=5).ok, 60, "the UI")
        assert requests.get(f"http://127.0.0.1:{port}/ui-settings", timeout=5).json()["api_url"] == api

        def served():
            response = requests.post(f"{api}/deployments/filter", json={"limit": 50, "offset": 0}, timeout=5)
            return response.ok and len(response.json()) >= 10

        wait_until(served, 120, "the deployments to be served")

        # The command line finds the running server, and the event its flow emits triggers a
        # deployment. It runs as its own process, as a user's would: inside this one, the session's
        # Prefect test harness would take its flow runs.
        def pollflow(*args):
            done = subprocess.run(
                [sys.executable, "-m", "pollflow", *args],
                env=cli_env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr

        cli_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        pollflow("plan", "local.hartfield.2027-05-06")
        wait_until(
            lambda: any(run["state_type"] != "SCHEDULED" for run in flow_runs_of(api, "check-deadlines")),
            180,
            "check-deadlines to be triggered by pollflow.election.planned",
        )
        cli_env["POLLFLOW_TOKEN"] = token_for("carol@wychwood.gov.uk")  # done is a named person's act
        pollflow("done", "project_plan", "--by", "carol@wychwood.gov.uk")
        wait_until(
            lambda: flow_runs_of(api, "deliver-outbox"),
            180,
            "deliver-outbox to be triggered by pollflow.workitem.completed",
        )
        # And the scheduler makes the every-15-minutes runs (it would not on SQLAlchemy 2.1).
        wait_until(
            lambda: any(run["state_type"] == "SCHEDULED" for run in flow_runs_of(api, "check-deadlines")),
            120,
            "the */15 schedule to make runs",
        )
    except AssertionError:
        log.flush()
        print((tmp_path / "serve.log").read_text()[-4000:])  # shown with the failure
        raise
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
        log.close()
