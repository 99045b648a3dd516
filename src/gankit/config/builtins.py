"""The names gankit itself registers, known without importing torch.

The registries of the layers above (tasks, nets, objectives) are the authority: a Python user
can register more. The ``gankit`` command cannot (it runs no user code), so it checks a flag's
name against this list before importing torch and answers a typo at once; the help text lists
the same names. ``tests/unit/test_builtins.py`` keeps this list equal to what a fresh import
registers. :func:`check_data_source` answers a ``--data`` path that does not exist or is an
empty file, for the command before torch loads and for ``gankit.train(data=...)`` alike.
"""

from __future__ import annotations

from pathlib import Path

from gankit.core.errors import GankitError

BUILTIN_NAMES: dict[str, tuple[str, ...]] = {
    "dataset": ("parabola", "mixture1d", "ring", "grid", "digits", "images", "table"),
    "objective": ("minimax", "nonsaturating", "least_squares", "hinge", "relativistic",
                  "wasserstein", "wasserstein_gp"),
    "activation": ("relu", "leaky_relu", "elu", "gelu", "silu", "tanh"),
    "architecture": ("mlp", "dcgan", "pacgan_mlp"),
}
# The config key each kind of name is set by.
NAME_KEYS = {"dataset": ("data", "name"), "objective": ("train", "loss"),
             "activation": ("model", "activation"), "architecture": ("model", "arch")}


def looks_like_path(source: str) -> bool:
    """Whether a ``--data`` value names a file or folder rather than a dataset."""
    return "/" in source or bool(Path(source).suffix) or Path(source).expanduser().exists()


def check_data_source(source: str) -> None:
    """A ``--data`` value that is a path must exist and not be an empty file; a name is left to
    the validation (it knows every dataset, and suggests one)."""
    if source in BUILTIN_NAMES["dataset"]:
        return
    if not looks_like_path(source):
        return
    path = Path(source).expanduser()
    if source.endswith("/") and not path.is_dir():
        raise GankitError(f"no such folder: '{source}'")
    if not path.exists():
        raise GankitError(f"no such {'file' if path.suffix else 'file or folder'}: '{source}'")
    if path.is_file() and path.stat().st_size == 0:
        raise GankitError(f"'{source}' is empty")
