"""Reading settings: a dict or TOML file into a :class:`Config`, one flag's text into a value,
and the merge of layers of settings. Types are checked here; ranges and names are not."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

from gankit.config.schema import Config, DataConfig
from gankit.core.errors import GankitError, did_you_mean


def _check_type(key: str, value: Any, annotation: Any) -> Any:
    """Return ``value`` converted to ``annotation`` (ints accepted as floats) or raise."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        if not isinstance(value, dict):
            raise GankitError(f"{key} must be a table of settings, got {value!r}")
        return value
    if origin is list:
        (item_type,) = typing.get_args(annotation)
        if not isinstance(value, list):
            numbers = isinstance(value, str) and re.fullmatch(r"[\d.eE+-]+(,[\d.eE+-]+)*", value)
            example = f"[{value}]" if numbers else "[256, 256]"
            raise GankitError(f"{key} must be a list of {item_type.__name__} in brackets, "
                              f"e.g. {key}={example.replace(' ', '')}, got {value!r}")
        return [_check_type(f"{key}[{i}]", v, item_type) for i, v in enumerate(value)]
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(annotation, type) and (
        not isinstance(value, annotation) or (isinstance(value, bool) and annotation is not bool)
    ):
        raise GankitError(f"{key} must be of type {annotation.__name__}, got {value!r}")
    return value


def _section_from_dict(cls: type, values: dict[str, Any], prefix: str) -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in values.items():
        full = f"{prefix}{key}"
        if key not in names:
            raise GankitError(f"unknown config key '{full}'{did_you_mean(key, names)}; "
                              f"accepted in this section: {', '.join(names)}")
        annotation = hints[key]
        if dataclasses.is_dataclass(annotation):
            if not isinstance(value, dict):
                raise GankitError(f"config key '{full}' must be a table ([{full}])")
            kwargs[key] = _section_from_dict(annotation, value, f"{full}.")
        else:
            kwargs[key] = _check_type(full, value, annotation)
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any]) -> Config:
    values = dict(values)
    data = values.pop("data", {})
    if not isinstance(data, dict):
        raise GankitError("config key 'data' must be a table ([data])")
    data = dict(data)
    name = data.pop("name", DataConfig.name)
    if not isinstance(name, str):
        raise GankitError(f"data.name must be a string, got {name!r}")
    config = _section_from_dict(Config, values, "")
    config.data = DataConfig(name, data)
    return config


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict update: tables merge, everything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GankitError(f"config file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GankitError(f"cannot read config file '{path}': {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GankitError(f"config file '{path}' is not valid TOML: {exc}") from None


def _annotation(dotted: str) -> Any:
    """The declared type of a dotted config key, or None for a task parameter or unknown key."""
    cls: Any = Config
    for part in dotted.split("."):
        hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
        if cls is DataConfig and part == "name":
            return str
        if part not in hints or cls is DataConfig:
            return None
        cls = hints[part]
    return cls


def parse_value(dotted: str, text: str) -> Any:
    """One value of a flag or of ``--set`` as the key expects it: every path in goes through here.

    A string-typed key takes the text as it is (``--name 123`` is the name '123'); a list-typed
    key also takes the comma form and a single item (``256,256`` for ``[256, 256]``); anything
    else is read as a TOML value, and a bare word that is not TOML stays a string for
    validation to judge.
    """
    annotation = _annotation(dotted)
    text = text.strip()
    raw_list = text.startswith("[")
    if annotation is str:
        return text
    listed = typing.get_origin(annotation) is list
    if listed and not text.startswith("["):
        text = f"[{text}]"  # '256,256' and '256' as [256, 256] and [256]
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text[1:-1] if listed and not raw_list else text


def parse_override(assignment: str) -> dict[str, Any]:
    """``'train.lr_g=2e-4'`` -> ``{'train': {'lr_g': 0.0002}}``; see :func:`parse_value`."""
    key, sep, raw = assignment.partition("=")
    if not sep or not key.strip():
        raise GankitError(f"--set takes KEY=VALUE (e.g. train.lr_g=2e-4), got '{assignment}'")
    return nested(key.strip(), parse_value(key.strip(), raw))



def nested(dotted: str, value: Any) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    nested: dict[str, Any] = {leaf: value}
    for part in reversed(parents):
        nested = {part: nested}
    return nested



def flat_settings(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A config dict as dotted keys with plain values (lists as text): the rows of a report's
    table of settings and TensorBoard's hyper-parameters."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_settings(value, f"{name}."))
        else:
            flat[name] = value if isinstance(value, (bool, int, float, str)) else str(value)
    return flat
