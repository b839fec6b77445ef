"""Commands that only read answer fast: they import neither Prefect (seconds to start) nor the web
stack. Each runs in a fresh interpreter so that nothing another test imported is counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("prefect", "fastapi", "starlette", "uvicorn")


def _run(args: list[str], home) -> tuple[int, str, str, list[str]]:
    code = (
        "import json, sys; from pollflow.cli import main; "
        f"rc = main({args!r}); "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)"
        "; sys.exit(rc)"
    )
    env = {**os.environ, "POLLFLOW_HOME": str(home), "POLLFLOW_DATABASE_URL": f"sqlite:///{home}/p.db"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    *lines, loaded = result.stderr.strip().splitlines()
    return result.returncode, result.stdout, "\n".join(lines), json.loads(loaded)


@pytest.mark.parametrize(
    ("args", "rc", "said"),
    [
        (["timetable", "local.hart.2026-05-07", "--format", "json"], 0, '"poll_date": "2026-05-07"'),
        (["kinds"], 0, "local-england.yaml"),
        (["tasks", "--format", "json"], 0, "[]"),
        (["tasks", "--overdue"], 0, "Open work (0 items)"),
        (["audit", "local.nowhere.2027-05-06"], 2, ""),
    ],
    ids=["timetable", "kinds", "tasks-json", "tasks-table", "audit"],
)
def test_a_read_only_command_imports_neither_prefect_nor_the_web_stack(tmp_path, args, rc, said):
    code, out, err, loaded = _run(args, tmp_path)
    assert code == rc, err
    assert said in out
    assert loaded == [], f"{' '.join(args)} imported {', '.join(loaded)}"
    if rc:
        # The refusal is one readable line naming the election, not a traceback.
        assert err.count("\n") == 0 and err.startswith("pollflow: error:") and "nowhere" in err
