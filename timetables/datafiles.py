"""pollflow's own YAML data files (days of mourning, amendments, gaps), read into their models:
a missing file is an empty one; a broken one is one error naming the file and what it should be."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from timetables.errors import DefinitionError

Model = TypeVar("Model", bound=BaseModel)


def read_yaml(path: Path, model: type[Model], what: str) -> Model | None:
    """``path`` as ``model``; None if there is no such file."""
    if not path.exists():
        return None
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DefinitionError(f"{path}: not a valid {what}: {exc}") from exc
