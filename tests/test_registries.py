"""Registries are explicit lists, not scans of file names: each is checked here against the files
it should list, so a new module cannot be forgotten (nor a scan quietly find nothing)."""

from __future__ import annotations

from pathlib import Path

import benchmarks.__main__ as bench_main
from pollflow import cli
from pollflow.web import page_modules

ROOT = Path(__file__).resolve().parents[1]


def _modules(folder: str, prefix: str = "", skip: tuple[str, ...] = ("__init__",)) -> set[str]:
    return {
        p.stem.removeprefix(prefix)
        for p in (ROOT / folder).glob(f"{prefix}*.py")
        if p.stem not in skip and not p.stem.startswith("_")
    }


def test_every_cli_command_module_is_registered():
    registered = {m.__name__.rsplit(".", 1)[1] for m in cli.COMMAND_MODULES}
    # options.py holds what the command modules share: it adds no commands.
    assert registered == _modules("pollflow/cli", skip=("__init__", "options"))


def test_every_command_module_adds_commands_to_the_one_app():
    names = {c.name or c.callback.__name__ for c in cli.app.registered_commands}
    groups = {g.name for g in cli.app.registered_groups}
    assert {"plan", "tasks", "done", "recruit", "allocate", "payroll"} <= names
    assert {"stations", "staff", "training", "canvass", "holidays"} <= groups


# What the pages share (rendering, sessions, security, single sign-on, events): they add no routes.
WEB_SHARED = ("__init__", "render", "security", "session", "sso")


def test_every_web_page_module_is_registered():
    registered = {m.__name__.rsplit(".", 1)[1] for m in page_modules()}
    assert registered == _modules("pollflow/web", skip=WEB_SHARED)
    assert all(callable(m.register) for m in page_modules())


def test_every_benchmark_is_run_by_make_bench():
    assert set(bench_main.BENCHMARKS) == _modules("benchmarks", prefix="bench_")


def test_an_unknown_benchmark_is_refused_naming_those_there_are(capsys):
    try:
        bench_main.main(["nonesuch"])
    except SystemExit as exc:
        message = str(exc.code)
    else:
        raise AssertionError("an unknown benchmark ran")
    assert message.startswith("unknown benchmark nonesuch: benchmarks are allocation, canvass")
