"""Operator-edited data files (YAML) loaded into frozen pydantic models, with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def describe(exc: ValidationError) -> str:
    """'deadlines.emergency_report_days: 'soon' — Input should be ...; ...': the keys a person
    must fix, and the value found there when it is a plain one."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'file'}: {_shown(e.get('input'))}{e['msg']}"
        for e in exc.errors()
    )


def _shown(value: object) -> str:
    return f"{value!r} — " if isinstance(value, (str, int, float)) else ""


def load_yaml_model(path: Path, model: type[M], error: type[Exception]) -> M:
    """Parse `path` into `model`; any problem raises `error` naming the file and the bad key."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise error(f"{path}: {describe(exc)}") from exc
    except FileNotFoundError as exc:
        raise error(f"{path}: no such file") from exc
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise error(f"{path}: {exc}") from exc
