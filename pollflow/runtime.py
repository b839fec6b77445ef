"""Running flows from the command line: against `pollflow serve`'s Prefect server when one is
up, otherwise on Prefect's embedded API, quietly, with a spinner while Prefect starts."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

import requests
from rich.console import Console

from timetables import settings
from timetables.settings import load


def use_pollflow_prefect_home() -> None:
    """Keep Prefect's embedded database under POLLFLOW_HOME unless the user chose otherwise."""
    if "PREFECT_HOME" not in os.environ:
        path = load().prefect_home
        path.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(path)


def server_file() -> Path:
    return load().home / "prefect-server.json"


def running_server() -> str | None:
    """The API URL of the Prefect server `pollflow serve` started, if it answers."""
    path = server_file()
    if not path.exists():
        return None
    try:
        url = json.loads(path.read_text())["api_url"]
        if requests.get(f"{url}/health", timeout=0.5).ok:
            return url
    except (OSError, ValueError, KeyError, requests.RequestException):
        pass
    return None


def prepare_prefect() -> None:
    """Settings Prefect must see before it is imported."""
    use_pollflow_prefect_home()
    defaults = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # no network here: no telemetry noise
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if "PREFECT_API_URL" not in os.environ:
        url = running_server()
        if url:
            os.environ["PREFECT_API_URL"] = url


def run_flow(flow: str, console: Console | None = None, **parameters):
    """Call a flow, named "module:function" under flows/. One-shot command-line runs switch
    Prefect's heartbeats off (they add a second to every flow call and only matter for
    long-lived workers)."""
    prepare_prefect()  # before Prefect is first imported
    import importlib

    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    module, _, name = flow.partition(":")
    flow_fn = getattr(importlib.import_module(f"flows.{module}"), name)
    if not settings.debug():
        # A failed run is recorded in Prefect (its UI shows the traceback); the command line says
        # what went wrong in one line instead of printing Prefect's log of it.
        for logger in ("prefect.flow_runs", "prefect.task_runs"):
            logging.getLogger(logger).setLevel(logging.CRITICAL)

    where = os.environ.get("PREFECT_API_URL") or "Prefect's embedded API"
    status = (
        console.status(f"Running {flow_fn.name} on {where}...", spinner="dots")
        if console is not None and console.is_terminal
        else contextlib.nullcontext()
    )
    with status, temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return flow_fn(**parameters)
