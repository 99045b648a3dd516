"""Checks of a command's arguments that need no torch: run before the API is imported.

Importing torch takes one to several seconds on a busy machine; a mistyped name or a missing
file should be answered at once. Each check here only looks at the arguments and the file
system; the full validation (:mod:`gankit.config.resolve`) still runs afterwards and stays the
authority, so a check here may pass something that is refused later, never the reverse.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import reduce
from pathlib import Path
from typing import Any

from gankit.config import SHORTCUTS, merge, parse_override, read_toml, shortcut_overrides
from gankit.config.builtins import BUILTIN_NAMES, NAME_KEYS, check_data_source, looks_like_path
from gankit.core.errors import GankitError, did_you_mean


def check_names(values: dict[str, Any]) -> None:
    """Every built-in kind of name in the given overrides is one gankit knows."""
    for kind, (section, key) in NAME_KEYS.items():
        name = values.get(section, {}).get(key) if isinstance(values.get(section), dict) else None
        if not isinstance(name, str) or (kind == "dataset" and looks_like_path(name)):
            continue
        known = BUILTIN_NAMES[kind]
        if name not in known:
            raise GankitError(f"unknown {kind} '{name}'{did_you_mean(name, known)}; "
                              f"choose one of: {', '.join(sorted(known))}")


def check_run_folder(path: str) -> None:
    if not Path(path).is_dir():
        raise GankitError(f"run folder '{path}' does not exist")


def check_train(args: argparse.Namespace) -> None:
    if args.resume is not None:
        check_run_folder(args.resume)
        return
    shortcuts = {s.name: getattr(args, s.name) for s in SHORTCUTS}
    overrides = reduce(merge, shortcut_overrides(**shortcuts) + [parse_override(i) for i in args.set], {})
    data = overrides.get("data")
    if isinstance(data, dict):  # a path in a config file may be relative to elsewhere: not checked here
        for key in ("name", "path"):
            if isinstance(data.get(key), str):
                check_data_source(data[key])
    file_values = read_toml(args.config) if args.config is not None else {}
    overrides = merge(file_values, overrides)
    check_names(overrides)


def _check_run_dir(args: argparse.Namespace) -> None:
    check_run_folder(args.run_dir)


def _check_run_or_model(args: argparse.Namespace) -> None:
    """sample and eval also read a model file written by ``gankit export``."""
    if not Path(args.run_dir).is_file():
        check_run_folder(args.run_dir)


PRECHECKS: dict[str, Callable[[argparse.Namespace], None]] = {
    "train": check_train,
    "sample": _check_run_or_model,
    "eval": _check_run_or_model,
    "plot": _check_run_dir,
    "export": _check_run_dir,
}


def precheck(args: argparse.Namespace) -> None:
    """Raise GankitError for what the arguments alone show to be wrong."""
    check = PRECHECKS.get(args.command)
    if check is not None:
        check(args)
