"""gankit: train generative adversarial networks with PyTorch, and measure them exactly."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The API is loaded on first use: torch takes ~1.5 s to import and matplotlib ~0.4 s more, and
# ``gankit --help`` or a mistyped flag should be answered without either.
_LAZY = {
    "Config": ("gankit.config", "Config"),
    "resolve_config": ("gankit.config", "resolve_config"),
    "Run": ("gankit.run", "Run"),
    "resume": ("gankit.run", "resume"),
    "train": ("gankit.run", "train"),
    "compare": ("gankit.compare", "compare"),
    "run_theory": ("gankit.theory", "run_theory"),
    "report": ("gankit.report", "write_report"),
    "list_runs": ("gankit.runs", "list_runs"),
}

if TYPE_CHECKING:
    from gankit.compare import compare
    from gankit.config import Config, resolve_config
    from gankit.report import write_report as report
    from gankit.run import Run, resume, train
    from gankit.runs import list_runs
    from gankit.theory import run_theory

__all__ = ["Config", "Run", "__version__", "compare", "list_runs", "report", "resolve_config", "resume",
           "run_theory", "train"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gankit' has no attribute '{name}'")
    import importlib

    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """Keeps ``gankit.compare`` (and ``gankit.report``) the function: importing the submodule
    ``gankit.compare`` (as in ``from gankit.compare import grid_variants``) would otherwise rebind
    the name to the module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
