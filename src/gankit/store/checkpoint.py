"""Checkpoints: complete, versioned, written atomically and loaded without running code."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

from gankit.core.atomic import atomic_write_bytes, atomic_write_text
from gankit.core.errors import GankitError

FORMAT_VERSION = 2
# Version 1 (gankit before the architecture registry) kept each member's data stream as a bare
# generator state; version 2 keeps a sampler state (generator plus any epoch position).
READABLE_VERSIONS = (1, 2)
PREFIX, SUFFIX = "step_", ".pt"
__all__ = ["atomic_write_bytes", "atomic_write_text", "latest_checkpoint", "list_checkpoints",
           "load_checkpoint", "open_latest", "read_plain", "save_checkpoint", "write_plain"]


def checkpoint_path(folder: Path, step: int) -> Path:
    return folder / f"{PREFIX}{step:08d}{SUFFIX}"


def list_checkpoints(folder: Path) -> list[Path]:
    """Checkpoints in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.name[len(PREFIX):-len(SUFFIX)].isdigit())


def save_checkpoint(folder: Path, step: int, payload: dict[str, Any], keep: int) -> Path:
    """Save ``payload`` for ``step`` and delete all but the newest ``keep`` checkpoints."""

    path = checkpoint_path(folder, step)
    write_plain(path, {"format_version": FORMAT_VERSION, **payload})
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def write_plain(path: Path, payload: dict[str, Any]) -> None:
    """``torch.save`` of plain containers and tensors, written atomically."""
    import torch

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def read_plain(path: Path, kind: str) -> Any:
    """Load with ``weights_only=True``: a file that needs arbitrary code is refused, not run;
    every failure is one line naming the ``kind`` of file ("checkpoint", "model file")."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise GankitError(f"{kind} '{path}' does not exist") from None
    except IsADirectoryError:
        raise GankitError(f"'{path}' is a folder, not a {kind}") from None
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GankitError(f"{kind} '{path}' was refused: it is not a plain gankit {kind} "
                          f"(loading it would need to run code: {first})") from None
    except Exception as exc:  # torch raises several types for truncated or corrupt files
        raise GankitError(f"{kind} '{path}' is corrupt or truncated ({type(exc).__name__}: "
                          f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''})") from None


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint read by :func:`read_plain`, in the current format's layout."""
    state = read_plain(path, "checkpoint")
    if not isinstance(state, dict) or "format_version" not in state:
        raise GankitError(f"checkpoint '{path}' is not a gankit checkpoint")
    if state["format_version"] not in READABLE_VERSIONS:
        raise GankitError(f"checkpoint '{path}' has format version {state['format_version']}; "
                          f"this gankit reads versions {', '.join(map(str, READABLE_VERSIONS))}")
    return _upgrade(state)


def _upgrade(state: dict[str, Any]) -> dict[str, Any]:
    """A version-1 checkpoint in version 2's layout (its config gains the new keys' defaults)."""
    if state["format_version"] == 1 and isinstance(state.get("trainer"), dict):
        trainer = dict(state["trainer"])
        trainer["samplers"] = [{"rng": rng} for rng in trainer.pop("data_rng", [])]
        state = {**state, "trainer": trainer, "format_version": FORMAT_VERSION}
    return state


def open_latest(folder: Path) -> dict[str, Any]:
    """The newest checkpoint in ``folder``, loaded and upgraded: what load, resume and rollback read."""
    return load_checkpoint(latest_checkpoint(folder))


def latest_checkpoint(folder: Path) -> Path:
    found = list_checkpoints(folder)
    if not found:
        raise GankitError(f"no checkpoint in '{folder}' (expected {PREFIX}NNNNNNNN{SUFFIX} files)")
    return found[-1]
