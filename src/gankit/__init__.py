"""gankit: train generative adversarial networks with PyTorch, and measure them exactly.

The public API lives in :mod:`gankit.api` and is loaded on first use: torch takes about 1.5 s to
import and matplotlib 0.4 s more, and ``gankit --help`` or a mistyped flag should be answered
without either. No subpackage bears the name of an API function, so ``gankit.train``,
``gankit.compare`` and ``gankit.report`` stay the functions whatever is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Config": ("gankit.config.schema", "Config"),
    "resolve_config": ("gankit.config.resolve", "resolve_config"),
    "Run": ("gankit.api.run", "Run"),
    "resume": ("gankit.api.training", "resume"),
    "train": ("gankit.api.training", "train"),
    "compare": ("gankit.api.comparison", "compare"),
    "grid_variants": ("gankit.api.comparison", "grid_variants"),
    "run_theory": ("gankit.api.theory", "run_theory"),
    "report": ("gankit.api.reporting", "write_report"),
    "list_runs": ("gankit.store.runs", "list_runs"),
    "load": ("gankit.api.artifact", "load"),
    "Synthesizer": ("gankit.api.synthesizer", "Synthesizer"),
}

if TYPE_CHECKING:
    from gankit.api.artifact import load
    from gankit.api.comparison import compare, grid_variants
    from gankit.api.reporting import write_report as report
    from gankit.api.run import Run
    from gankit.api.synthesizer import Synthesizer
    from gankit.api.theory import run_theory
    from gankit.api.training import resume, train
    from gankit.config.resolve import resolve_config
    from gankit.config.schema import Config
    from gankit.store.runs import list_runs

__all__ = ["Config", "Run", "Synthesizer", "__version__", "compare", "grid_variants", "list_runs", "report",
           "load", "resolve_config", "resume", "run_theory", "train"]


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
