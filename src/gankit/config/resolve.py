"""A run's settings resolved: preset, file and overrides merged, then every name checked against
the registries of the layers that define them (datasets, architectures, objectives, schedules).

This is the one module of :mod:`gankit.config` that looks upward: the schema, parsing, shortcuts
and presets below it know names only as strings.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from gankit.config.parse import config_from_dict, merge, read_toml
from gankit.config.presets import preset
from gankit.config.schema import Config, DataConfig, check_values
from gankit.core.errors import GankitError
from gankit.nets import ACTIVATIONS, ARCHITECTURES, choose_path
from gankit.objectives import OBJECTIVES
from gankit.tasks import TASKS, data_source, make_task
from gankit.training.optim import LR_SCHEDULES


def validate(config: Config, saved: dict[str, Any] | None = None) -> Config:
    """Check ranges and names; raise GankitError naming the first problem. The task's parameters
    are resolved too (filled with their defaults), so config.toml states every value the run used.
    ``saved``: a run's saved data (:mod:`gankit.tasks.saved`), which the task is built from
    instead of its source (a table file that may be gone)."""
    check_values(config)
    if config.train.lr_schedule not in LR_SCHEDULES:
        raise GankitError(f"train.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, "
                          f"got '{config.train.lr_schedule}'")
    OBJECTIVES.get(config.train.loss)
    ACTIVATIONS.get(config.model.activation)
    architecture = ARCHITECTURES.get(config.model.arch)
    architecture.parse_options(config.model.options, config.model.arch)
    choose_path(config.model, architecture)
    task = make_task(config.data.name, config.data.params, saved)
    config.data.params = {f.name: _plain(getattr(task, f.name)) for f in dataclasses.fields(task)}
    return config


def _plain(value: Any) -> Any:
    """Tuples as lists, so that a resolved value writes to TOML and reads back equal."""
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


def load_config(values: dict[str, Any], saved: dict[str, Any] | None = None) -> Config:
    """A saved config (a run's config.toml, a checkpoint's) read and validated; its task built
    from the run's ``saved`` data when given (see :func:`validate`)."""
    return validate(config_from_dict(values), saved)


def data_preset(data_name: str) -> str:
    """The preset a dataset recommends (its task's ``preset``), 'default' when it names none."""
    if data_name not in TASKS.names():
        return "default"  # validation names the unknown dataset; the preset does not matter
    return getattr(TASKS.get(data_name), "preset", "default")


def _data_name(file_values: dict[str, Any], overrides: list[dict[str, Any]]) -> str:
    """The dataset a run will use, before any preset is applied: the last one named wins."""
    name = DataConfig.name
    for layer in [file_values, *overrides]:
        data = layer.get("data")
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            name = data["name"]
    return name


def _with_data_source(override: dict[str, Any]) -> dict[str, Any]:
    """An override whose ``data.name`` is a path, with the task that reads it and ``data.path``."""
    data = override.get("data")
    if not (isinstance(data, dict) and isinstance(data.get("name"), str)):
        return override
    name, params = data_source(data["name"])
    return {**override, "data": {**data, **params, "name": name}}


def resolve_config(
    preset_name: str | None = None,
    config_file: str | Path | None = None,
    overrides: list[dict[str, Any]] | None = None,
) -> Config:
    """Preset, then a TOML file, then overrides, each on top of the last; then validate.

    Without a preset name the dataset's own preset is used (``data="ring"`` -> ``ring``), so
    the defaults follow the data; an explicit preset always wins.
    """
    file_values = read_toml(config_file) if config_file is not None else {}
    overrides = [_with_data_source(o) for o in overrides or []]
    if preset_name is None:
        preset_name = data_preset(_data_name(file_values, overrides or []))
    values = merge(preset(preset_name), file_values)
    for override in overrides or []:
        data = override.get("data", {})
        if not isinstance(data, dict):
            raise GankitError("config key 'data' is a table: set its parts, e.g. data.name=ring")
        new_name = data.get("name")
        if new_name is not None and new_name != values.get("data", {}).get("name"):
            values = {**values, "data": {}}  # another dataset: the old one's parameters go
        values = merge(values, override)
    return validate(config_from_dict(values))

