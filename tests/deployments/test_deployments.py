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


# The deployments events trigger: under a burst, one run a window each, one at a time.
TRIGGERED = {"check-deadlines", "produce-documents", "deliver-outbox"}


def test_triggered_deployments_coalesce_and_run_one_at_a_time():
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy
    from prefect.events.schemas.automations import Posture

    from deployments.serve import deployments
    from flows.reactions import WINDOW

    for d in deployments():
        if d.name not in TRIGGERED:
            assert d.concurrency_limit is None, d.name
            assert not d.triggers, d.name
            continue
        assert d.concurrency_limit == 1, d.name
        assert d.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE, d.name
        for trigger in d.triggers:  # fires on the first event, then not again within the window
            assert (trigger.posture, trigger.threshold, trigger.within) == (Posture.Reactive, 1, WINDOW)
    # The run a delivery trigger starts is told when its event happened, to cover the window.
    (deliver,) = [d for d in deployments() if d.name == "deliver-outbox"]
    assert deliver.triggers[0].parameters["since"] == "{{ event.occurred.isoformat() }}"


def test_the_server_renders_the_delivery_parameters_into_values_the_flow_accepts(monkeypatch):
    """Through the server's own rendering of a run-deployment action: a one-expression template
    goes through tojson, so a bare {{ event.occurred }} (a datetime) fails the action with
    InvalidJinja and no run is made at all."""
    import asyncio
    import datetime as dt
    import uuid

    from prefect.server.events.actions import RunDeployment
    from prefect.server.events.schemas.events import ReceivedEvent

    from deployments.serve import deployments
    from flows.reactions import deliver_now

    occurred = dt.datetime(2027, 4, 1, 9, 30, tzinfo=dt.UTC)
    event = ReceivedEvent(
        event="pollflow.workitem.completed",
        resource={"prefect.resource.id": "pollflow.workitem.project_plan"},
        occurred=occurred,
        id=uuid.uuid4(),
    )
    (deliver,) = [d for d in deployments() if d.name == "deliver-outbox"]
    parameters = deliver.triggers[0].parameters
    action = RunDeployment(source="selected", deployment_id=uuid.uuid4(), parameters=parameters)

    async def context(self, templates, triggered_action):
        return {"event": event}

    monkeypatch.setattr(RunDeployment, "_template_context", context)
    parameters = deliver_now.validate_parameters(asyncio.run(action.render_parameters(None)))
    assert parameters["since"] == occurred
    assert parameters["reason"] == "pollflow.workitem.completed on pollflow.workitem.project_plan"


def test_prefect_yaml_has_the_same_triggers_and_concurrency_limits_as_serve():
    """What prefect deploy makes of prefect.yaml, trigger by trigger, is what serve.py declares."""
    from prefect.cli.deploy._triggers import _initialize_deployment_triggers

    from deployments.serve import deployments

    served = {d.name: d for d in deployments()}
    spec = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    fields = ("name", "posture", "threshold", "within", "expect", "match", "parameters", "for_each")
    for deployment in spec["deployments"]:
        name = deployment["name"]
        triggers = _initialize_deployment_triggers(name, deployment.get("triggers", []))
        assert [[getattr(t, f) for f in fields] for t in triggers] == [
            [getattr(t, f) for f in fields] for t in served[name].triggers
        ], name
        limit = deployment.get("concurrency_limit")
        declared = (limit["limit"], limit["collision_strategy"]) if limit else None
        options = served[name].concurrency_options
        expected = (served[name].concurrency_limit, options.collision_strategy.value) if options else None
        assert declared == expected, name


def test_serve_caps_the_flow_runs_it_runs_at_once(monkeypatch):
    import prefect

    from deployments import serve

    seen = {}
    monkeypatch.setattr(prefect, "serve", lambda *d, **options: seen.update(options, count=len(d)))
    serve.main()
    assert seen == {"limit": serve.RUNNER_LIMIT, "count": 10}
    assert 1 <= serve.RUNNER_LIMIT <= 4


def test_a_triggered_delivery_keeps_delivering_until_its_window_has_closed(monkeypatch):
    """Events in the window after the one that started the run start nothing: the run itself
    picks up what they queued, with a last pass begun after the window closed."""
    import datetime as dt

    from flows import reactions
    from tasks.messaging.delivery import DeliveryReport

    monkeypatch.setattr(reactions, "WINDOW", dt.timedelta(seconds=0.4))
    monkeypatch.setattr(reactions, "MARGIN", dt.timedelta(seconds=0.1))
    monkeypatch.setattr(reactions, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(reactions, "markdown_artifact", lambda *args: None)
    passes = []

    def deliver_outbox():
        passes.append(dt.datetime.now(dt.UTC))
        return DeliveryReport(sent=1 if len(passes) == 2 else 0)  # one queued mid-window

    monkeypatch.setattr(reactions, "deliver_outbox", deliver_outbox)
    since = dt.datetime.now(dt.UTC)
    summary = reactions.deliver_now.fn("pollflow.workitem.completed on x", since=since)
    assert summary["sent"] == 1 and summary["passes"] == len(passes) >= 3
    assert passes[-1] >= since + dt.timedelta(seconds=0.5)  # the last look began after it closed
    assert passes[-2] < since + dt.timedelta(seconds=0.5)
    # Run by hand (no event), it delivers once and ends.
    passes.clear()
    assert reactions.deliver_now.fn()["passes"] == 1
    # Started late (queued behind another run), it delivers once: its window has closed.
    passes.clear()
    late = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    assert reactions.deliver_now.fn(since=late.replace(tzinfo=None))["passes"] == 1


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
