"""A run's settings resolved: preset, file and overrides merged, then every name checked against
the registries of the layers that define them (datasets, architectures, objectives, schedules).

This is the one module of :mod:`gankit.config` that looks upward: the schema, parsing, shortcuts
and presets below it know names only as strings.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from gankit.config.parse import config_from_dict, merge, read_toml
from gankit.config.presets import preset
from gankit.config.schema import Config, DataConfig, check_values
from gankit.core.errors import GankitError
from gankit.nets import ACTIVATIONS, ARCHITECTURES, choose_path
from gankit.objectives import OBJECTIVES
from gankit.tasks import TASKS, Task, data_source, make_task
from gankit.training.optim import LR_SCHEDULES


def validate(config: Config, saved: dict[str, Any] | None = None) -> Config:
    """Check ranges and names; raise GankitError naming the first problem. The task's parameters
    are resolved too (filled with their defaults), so config.toml states every value the run used.
    ``saved``: a run's saved data (:mod:`gankit.tasks.saved`), which the task is built from
    instead of its source (a table file that may be gone)."""
    _validated_task(config, saved)
    return config


def _validated_task(config: Config, saved: dict[str, Any] | None = None) -> Task:
    """:func:`validate`'s work, returning the task it built (its rows set a length)."""
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
    return task


def steps_from_rows(epochs: float, rows: int, rows_per_step: int, floor: int, cap: int) -> int:
    """The steps of ``epochs`` passes over ``rows`` (``rows_per_step`` drawn by each step), kept
    within ``[floor, cap]`` (``cap`` 0: none). A small table is done in a few steps of a large
    batch, too few for a GAN to settle: the floor is what its length is in practice; the cap
    keeps a large table's run within a known time."""
    steps = max(1, math.ceil(epochs * rows / rows_per_step), floor)
    return min(steps, cap) if cap else steps


def _with_length(config: Config, task: Task) -> Config:
    """``train.steps`` from ``train.epochs`` and the task's training rows (see the schema)."""
    t = config.train
    rows = task.training_rows
    if t.epochs <= 0 or rows is None:
        return config
    steps = steps_from_rows(t.epochs, rows, t.batch_size * t.d_steps, t.min_steps, t.max_steps)
    return dataclasses.replace(config, train=dataclasses.replace(t, steps=steps))


# What a length stated by the user turns off, unless a later (or the same) layer sets it again.
CHOSEN_LENGTH_OFF = {"epochs": 0.0, "patience": 0, "all_rows": False}


def _user_length(layers: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``train`` keys to turn off because the file or the overrides set ``train.steps``
    after the last ``train.epochs``: a length the user states is the run's whole length, as it
    always was, not one the rows or the held-out evaluations choose; a layer with both (a saved
    config.toml) keeps its epochs, which give the same steps on the same data."""
    given_at = None
    for i, layer in enumerate(layers):
        train = layer.get("train")
        if isinstance(train, dict) and ("epochs" in train or "steps" in train):
            given_at = None if "epochs" in train else i
    if given_at is None:
        return {}
    later = [layer.get("train") for layer in layers[given_at:]]
    stated = {key for train in later if isinstance(train, dict) for key in train}
    return {key: off for key, off in CHOSEN_LENGTH_OFF.items() if key not in stated}


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
    the defaults follow the data; an explicit preset always wins. With ``train.epochs`` the
    steps follow the task's rows (:func:`steps_from_rows`) unless the file or an override set
    ``train.steps``: that length then wins, whole (no early stop, no all-rows phase, unless
    set again after it; see :func:`_user_length`), and the resolved config says so.
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
    values = merge(values, {"train": _user_length([file_values, *overrides])})
    config = config_from_dict(values)
    return _with_length(config, _validated_task(config))

