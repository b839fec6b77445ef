"""Run every benchmark: ``python -m benchmarks [name ...]``.

Each prints its time against a reference run in the same process, as a ratio. The list is
explicit (tests/test_registries.py checks that every bench_*.py module is on it).
"""

import importlib
import sys

BENCHMARKS = (
    "allocation",
    "canvass",
    "delivery",
    "documents",
    "kill",
    "planning",
    "scan",
    "timetables",
    "workspace",
    "burst",  # last: it starts a Prefect server and takes a few minutes
)


def main(names: list[str]) -> None:
    unknown = [n for n in names if n.removeprefix("bench_") not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark {', '.join(unknown)}: benchmarks are {', '.join(BENCHMARKS)}")
    for name in BENCHMARKS:
        if names and name not in {n.removeprefix("bench_") for n in names}:
            continue
        print(f"\n== bench_{name} ==", flush=True)
        importlib.import_module(f"benchmarks.bench_{name}").run()


if __name__ == "__main__":
    main(sys.argv[1:])
