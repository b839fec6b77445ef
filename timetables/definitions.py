"""Loads, validates and merges the timetable definition files.

Each ``definitions/<name>.yaml`` holds one kind of poll; files whose names start with an underscore
are shared bases that others ``extends``. A kind file may replace a base event by defining the same
key, or remove it by setting the key to null.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from timetables import paths
from timetables.errors import DefinitionError
from timetables.schema import Definition
from timetables.vocabulary import NATIONS

SKIP_FILES = {"calendars.yaml"}


@dataclass(frozen=True)
class KindInfo:
    """A kind of poll as ``pollflow kinds`` lists it."""

    kind: str
    title: str
    nations: tuple[str, ...]
    legislation: tuple[str, ...]
    files: tuple[str, ...]


def read_definition(path: Path) -> Definition:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DefinitionError(f"{path.name}: cannot read YAML: {exc}") from exc
    try:
        definition = Definition.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise DefinitionError(f"{path.name}: {problems}") from exc
    if not path.name.startswith("_") and (definition.kind is None or not definition.nations):
        raise DefinitionError(f"{path.name}: a kind file needs 'kind' and 'nations'")
    return definition


def merge(base: Definition, child: Definition) -> Definition:
    """The child's fields over the base's; events merged by key, null removing one."""
    events = {**base.events, **child.events}
    tasks = {**base.tasks, **child.tasks}
    return child.model_copy(
        update={
            "tasks": {k: v for k, v in tasks.items() if v is not None},
            "title": child.title or base.title,
            "legislation": child.legislation or base.legislation,
            "rules_from": child.rules_from or base.rules_from,
            "calendars": {**base.calendars, **child.calendars},
            "photo_id": child.photo_id or base.photo_id,
            "events": {k: v for k, v in events.items() if v is not None},
        }
    )


def _resolved(name: str, raw: dict[str, Definition], seen: tuple[str, ...] = ()) -> Definition:
    if name in seen:
        raise DefinitionError(f"{name}: 'extends' loops through {' -> '.join(seen + (name,))}")
    definition = raw[name]
    if definition.tasks_from is not None:
        # Another file's work catalogue under this file's own tasks (their events stay theirs).
        if definition.tasks_from not in raw:
            raise DefinitionError(
                f"{name}: takes tasks from '{definition.tasks_from}', which is not a definition file"
            )
        base = _resolved(definition.tasks_from, raw, seen + (name,)).tasks
        definition = definition.model_copy(update={"tasks": {**base, **definition.tasks}, "tasks_from": None})
    if definition.extends is None:
        return definition.model_copy(
            update={
                "events": {k: v for k, v in definition.events.items() if v is not None},
                "tasks": {k: v for k, v in definition.tasks.items() if v is not None},
            }
        )
    if definition.extends not in raw:
        raise DefinitionError(f"{name}: extends '{definition.extends}', which is not a definition file")
    return merge(_resolved(definition.extends, raw, seen + (name,)), definition)


@dataclass(frozen=True)
class DefinitionSet:
    """Every kind of poll, merged with its bases, indexed by kind and nation."""

    by_kind_nation: dict[tuple[str, str], tuple[str, Definition]]
    kinds: dict[str, KindInfo]

    def get(self, kind: str, nation: str) -> Definition:
        return self.by_kind_nation[(kind, nation)][1]

    def file_for(self, kind: str, nation: str) -> str:
        return self.by_kind_nation[(kind, nation)][0]


def load_definitions(directory: Path | None = None) -> DefinitionSet:
    directory = directory or paths.DEFINITIONS_DIR
    raw = {
        path.name: read_definition(path)
        for path in sorted(directory.glob("*.yaml"))
        if path.name not in SKIP_FILES
    }
    by_kind_nation: dict[tuple[str, str], tuple[str, Definition]] = {}
    files_by_kind: dict[str, list[str]] = {}
    for name, definition in raw.items():
        if name.startswith("_"):
            continue
        merged = _resolved(name, raw)
        for nation in definition.nations or ():
            key = (definition.kind, nation)
            if key in by_kind_nation:
                raise DefinitionError(
                    f"{name}: kind {definition.kind} in {nation} is already defined by "
                    f"{by_kind_nation[key][0]}"
                )
            by_kind_nation[key] = (name, merged)
        files_by_kind.setdefault(definition.kind, []).append(name)
    kinds = {}
    for kind, files in files_by_kind.items():
        nations = tuple(n for n in NATIONS if (kind, n) in by_kind_nation)
        first = by_kind_nation[(kind, nations[0])][1]
        kinds[kind] = KindInfo(
            kind=kind,
            title=first.title or kind,
            nations=nations,
            legislation=tuple(
                dict.fromkeys(law for n in nations for law in by_kind_nation[(kind, n)][1].legislation)
            ),
            files=tuple(files),
        )
    return DefinitionSet(by_kind_nation, kinds)


@cache
def definitions() -> DefinitionSet:
    """The bundled definitions, loaded once per process."""
    return load_definitions()
