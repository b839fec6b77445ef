"""``pollflow serve``: a local Prefect server (its UI is the audit dashboard) and every deployment,
with schedules and event triggers, in one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import requests
from rich.console import Console

from pollflow.runtime import prepare_prefect, server_file
from timetables.errors import PollflowError
from timetables.settings import load


def start_prefect_server(console: Console, host: str, port: int) -> tuple[subprocess.Popen, str]:
    """Start `prefect server start` and wait until it answers."""
    url = f"http://{host}:{port}/api"
    try:
        if requests.get(f"{url}/health", timeout=0.5).ok:
            raise PollflowError(
                f"something already answers at {url}: stop it, or set PREFECT_API_URL to use it"
            )
    except requests.RequestException:
        pass
    log = load().home / "prefect-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        # The UI in the browser calls the API where this server is, not Prefect's default 4200.
        env={"PREFECT_UI_API_URL": url, "PREFECT_UI_URL": f"http://{host}:{port}", **os.environ},
    )
    with console.status(f"Starting Prefect's server at {url} (log: {log})..."):
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise PollflowError(f"Prefect's server stopped on start: see {log}")
            try:
                if requests.get(f"{url}/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            process.terminate()
            raise PollflowError(f"Prefect's server did not answer within 3 minutes: see {log}")
    server_file().write_text(json.dumps({"api_url": url, "pid": process.pid}))
    return process, url


def serve(console: Console, host: str = "127.0.0.1", port: int = 4200) -> None:
    prepare_prefect()
    process = None
    url = os.environ.get("PREFECT_API_URL")
    try:
        if not url:
            process, url = start_prefect_server(console, host, port)
            os.environ["PREFECT_API_URL"] = url
        console.print(f"Prefect API: {url}")
        console.print(f"Prefect UI (the audit dashboard of flow runs, events and artifacts): {url[:-4]}")
        console.print(
            "Serving plan-election, replan, check-deadlines (every 15 minutes), daily-digest "
            "(08:00 Europe/London) and deliver-outbox, with their event triggers. Ctrl-C stops."
        )
        from deployments.serve import main

        main()
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
            server_file().unlink(missing_ok=True)
