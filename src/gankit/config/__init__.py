"""A run's configuration. The schema, parsing, shortcuts and presets are re-exported here; they
know names only as strings. :mod:`gankit.config.resolve` checks the names against the registries
of the layers above and is imported on its own (it is not re-exported: importing the schema
must not import the tasks, networks and objectives)."""

from gankit.config.parse import (
    config_from_dict,
    flat_settings,
    merge,
    nested,
    parse_override,
    parse_value,
    read_toml,
)
from gankit.config.presets import PRESET_HELP, PRESETS, preset
from gankit.config.schema import (
    BACKWARDS,
    Config,
    DataConfig,
    LogConfig,
    ModelConfig,
    TrainConfig,
    check_values,
)
from gankit.config.shortcuts import SHORTCUT_NAMES, SHORTCUTS, Shortcut, shortcut_overrides

__all__ = ["BACKWARDS", "PRESETS", "PRESET_HELP", "SHORTCUTS", "SHORTCUT_NAMES", "Config", "DataConfig",
           "LogConfig", "ModelConfig", "Shortcut", "TrainConfig", "check_values", "config_from_dict",
           "flat_settings", "merge", "nested", "parse_override", "parse_value", "preset", "read_toml",
           "shortcut_overrides"]
