"""A trained model as one file: ``gankit export RUN FILE`` writes it, :func:`load` reads it back.

The file holds everything sampling needs: the config, the generator's weights (and the EMA
generator's), the discriminator (refinement uses it), the task's saved data
(:mod:`gankit.tasks.saved`: a table's fitted codec and encoded held-out and training rows, an
image folder's held-out images; the bytes of the run folder's ``data.json`` and compressed
``data.npz``, the latter as a uint8 tensor; for the digits and a conditional image folder, also
the weights of the reference classifier the run folder scores its classes with, its
``reference_classifier.pt``, which a loaded model uses instead of retraining one on the images
the folder kept) and the run's summary. It is written with
``torch.save`` of plain containers (dicts, lists, str, int, float, bool, None) and tensors only,
and read with ``torch.load(weights_only=True)`` (and the data with ``np.load(allow_pickle=False)``):
loading it runs no code, and a file that would need to (a pickled object) is refused with one
line.

A loaded model is a :class:`~gankit.api.run.Run` without a run folder: it samples, refines and
evaluates in memory, and writes nothing. It is not unpacked into a temporary folder: nothing is
left behind, no path points to a folder that vanishes at exit, and what needs a folder (the
figures, which are drawn from the logs) says so instead of drawing into one that is thrown away.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from gankit import __version__
from gankit.api.run import Run
from gankit.config.resolve import load_config
from gankit.core.errors import GankitError
from gankit.store.checkpoint import read_plain, write_plain
from gankit.store.rundir import jsonable
from gankit.tasks import make_task
from gankit.tasks.saved import pack, unpack
from gankit.training.trainer import Trainer

__all__ = ["FORMAT", "export", "load", "open_run"]

FORMAT = "gankit-model"
VERSION = 1
NETWORKS = ("generator", "discriminator", "ema_generator")


def _packed(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """A task's saved state as its two files' bytes: JSON text, and the npz as a uint8 tensor."""
    if state is None:
        return None
    text, data = pack(state)
    return {"json": text.decode("utf-8"), "npz": torch.frombuffer(bytearray(data), dtype=torch.uint8)}


def _unpacked(packed: dict[str, Any] | None, file: Path) -> dict[str, Any] | None:
    if packed is None:
        return None
    data = packed["npz"].numpy().tobytes()
    return unpack(packed["json"].encode("utf-8"), data, f"{file} (data)", f"{file} (arrays)")


def _weights(module: torch.nn.Module | None) -> dict[str, torch.Tensor] | None:
    return None if module is None else {k: v.detach().cpu() for k, v in module.state_dict().items()}


def export(run: Run | str | Path, file: str | Path) -> Path:
    """Write ``run`` (a :class:`Run`, a run folder's path, or a model file's) as one model file
    at ``file``, atomically; returns its path. See the module's docstring for what it holds."""
    file = Path(file)
    if file.is_dir():
        raise GankitError(f"'{file}' is a folder; give the model file's name, e.g. {file / 'model.pt'}")
    if not file.parent.is_dir():
        raise GankitError(f"cannot write '{file}': folder '{file.parent}' does not exist")
    if not isinstance(run, Run):
        run = open_run(run)
    trainer = run.trainer
    payload = {
        "format": FORMAT, "version": VERSION, "gankit_version": __version__,
        "config": trainer.config.to_dict(),
        "networks": {"step": trainer.step_count, "members": trainer.members,
                     "diverged": trainer.diverged.clone().cpu(),
                     **{name: _weights(getattr(trainer, name)) for name in NETWORKS}},
        "data": _packed(trainer.task.saved_state()),
        "summary": jsonable(run.summary),
    }
    try:
        write_plain(file, payload)
    except OSError as exc:
        raise GankitError(f"cannot write '{file}': {exc.strerror or exc}") from None
    return file


def _read(file: Path) -> dict[str, Any]:
    payload = read_plain(file, "model file")
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise GankitError(f"'{file}' is not a gankit model file (gankit export RUN FILE writes one)")
    if payload.get("version") != VERSION:
        raise GankitError(f"'{file}' has model format version {payload.get('version')}; this gankit "
                          f"reads version {VERSION}")
    return payload


def load(file: str | Path, device: str | None = None) -> Run:
    """The model exported to ``file`` (:func:`export`), as a :class:`Run` without a run folder:
    ``sample``, ``sample_refined``, ``refine`` and ``evaluate`` work as on the run it came from
    and give the same results (an image run's class metrics with the reference classifier the
    file carries); ``summary`` is the run's; ``plot`` needs the run folder."""
    file = Path(file)
    payload = _read(file)
    try:
        saved = _unpacked(payload["data"], file)
        config = load_config(payload["config"], saved)
        if device is not None:
            config = dataclasses.replace(config, device=device)
        trainer = Trainer.from_config(config, make_task(config.data.name, config.data.params, saved))
        optimisers = {"opt_g": trainer.opt_g.state_dict(), "opt_d": trainer.opt_d.state_dict()}
        state = {**payload["networks"], **optimisers}  # fresh optimisers: this run does not train
        trainer.load_state_dict(state, restore_rng=False)
    except (KeyError, TypeError, AttributeError) as exc:
        raise GankitError(f"'{file}' is an incomplete gankit model file ({type(exc).__name__}: "
                          f"{exc})") from None
    summary = payload.get("summary")
    return Run(None, trainer, source=file, summary=summary if isinstance(summary, dict) else {})


def open_run(path: str | Path, device: str | None = None) -> Run:
    """A run folder (:meth:`Run.load`) or an exported model file (:func:`load`), by what
    ``path`` is: what a command taking either calls."""
    return load(path, device) if Path(path).is_file() else Run.load(path, device)
