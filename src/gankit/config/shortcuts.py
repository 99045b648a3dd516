"""Shortcuts: the flags of ``gankit train`` and the keywords of ``gankit.train``, one table for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gankit.config.builtins import BUILTIN_NAMES
from gankit.config.parse import nested, parse_value
from gankit.core.errors import GankitError, did_you_mean


@dataclass(frozen=True)
class Shortcut:
    """A setting reachable by a short name: the flag ``--NAME`` and the keyword ``train(NAME=)``.

    This table is the only list of shortcuts: the CLI's flags, ``gankit.train``'s keywords, the
    overrides and what ``--resume`` may change are all generated from it, so a shortcut cannot
    reach one of them and miss another. Values are checked by the config's validation only, so
    a bad value gets the same message from a flag, a keyword and ``--set``.
    """

    name: str
    keys: tuple[str, ...]  # the config keys it sets; ``lr`` sets both learning rates
    help: str
    group: str  # the section of ``gankit train --help``
    metavar: str = "VALUE"
    resume_ok: bool = False  # whether ``--resume`` may change it
    bare: str | None = None  # the value of the flag given without one (``--tensorboard`` = true)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


# In order of application: ``lr`` comes before ``lr_g`` and ``lr_d`` so that those win over it.
SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("data", ("data.name",), "dataset: parabola (default), mixture1d, ring, grid, digits, or "
             "a path: IMAGE_DIR/ or FILE.npy|.npz of images, a table FILE.csv/.tsv/.npy; without "
             "--preset it also picks the dataset's preset", "data", "NAME"),
    Shortcut("condition_on", ("data.condition",), "generate on request: what G is conditioned on: "
             "a (the curves), mode (ring, grid), class (the digits, an image folder's "
             "sub-folders) or a table's columns; then gankit sample --condition a=2.0",
             "data", "NAME[,NAME]"),
    Shortcut("noise_dim", ("model.noise_dim",), "size of G's noise input z", "model", "N"),
    Shortcut("g_hidden", ("model.g_hidden",), "G's hidden layer widths, e.g. 256,256", "model", "W,W"),
    Shortcut("d_hidden", ("model.d_hidden",), "D's hidden layer widths, e.g. 256,256", "model", "W,W"),
    Shortcut("activation", ("model.activation",),
             "hidden activation: " + ", ".join(BUILTIN_NAMES["activation"]), "model", "NAME"),
    Shortcut("loss", ("train.loss",), "objective: " + ", ".join(BUILTIN_NAMES["objective"]),
             "training", "NAME"),
    Shortcut("steps", ("train.steps",), "training iterations (with --resume: the new total); the "
             "whole run's length: for a table, no length from its rows, early stop or all-rows phase",
             "training", "N", resume_ok=True),
    Shortcut("batch_size", ("train.batch_size",), "real and fake samples per step", "training", "N"),
    Shortcut("d_steps", ("train.d_steps",), "discriminator steps per generator step (k)", "training", "K"),
    Shortcut("lr", ("train.lr_g", "train.lr_d"), "learning rate of both networks (--lr-g/--lr-d win "
             "over it)", "training", "LR"),
    Shortcut("lr_g", ("train.lr_g",), "generator learning rate", "training", "LR"),
    Shortcut("lr_d", ("train.lr_d",), "discriminator learning rate", "training", "LR"),
    Shortcut("ema", ("train.ema",), "decay of the generator's weight average (0 = off)", "training", "DECAY"),
    Shortcut("seed", ("seed",), "random seed of the run (of its first member)", "training", "S"),
    Shortcut("seeds", ("seeds",), "train this many independent members at once (seeds S, S+1, ...), "
             "computed in chunks of members on both cores when one is free (the first steps choose; "
             "run.json says how): 64 default members cost half a separate run each on 2 idle cores, "
             "about as much as separate runs on a busy machine", "training", "N"),
    Shortcut("device", ("device",), "cpu, cuda or cuda:N", "training", "DEVICE"),
    Shortcut("threads", ("train.threads",), "torch CPU threads (default 1, fastest for small "
             "networks; 0 = torch's default)", "training", "N"),
    Shortcut("compile", ("train.compile",), "run the step through torch.compile (needs a C++ "
             "compiler; 23-52 s of compiling first, and on 2 CPU cores no preset's step got faster: "
             "benchmarks/compile_step.py)", "training", "true|false", bare="true"),
    Shortcut("on_divergence", ("train.on_divergence",), "on a NaN/inf loss: stop (default) or "
             "rollback to the last checkpoint with halved learning rates", "training", "WHAT"),
    Shortcut("log_every", ("log.log_every",), "steps between two rows of metrics.jsonl", "logging", "N"),
    Shortcut("eval_every", ("log.eval_every",), "steps between two evaluations of the metrics",
             "logging", "N"),
    Shortcut("name", ("name",), "run name (default folder: runs/NAME-TIMESTAMP)", "output", "NAME"),
    Shortcut("tensorboard", ("log.tensorboard",), "write TensorBoard event files into RUN/tensorboard "
             "(needs pip install gankit[tensorboard])", "logging", "true|false", bare="true"),
)
SHORTCUT_NAMES = tuple(s.name for s in SHORTCUTS)


def shortcut_overrides(set: dict[str, Any] | None = None, **shortcuts: Any) -> list[dict[str, Any]]:
    """Overrides from shortcut names (``None`` means unset), then dotted keys in ``set``.

    A string value of a shortcut is parsed as a flag's text would be, so ``train(steps="abc")``
    and ``--steps abc`` are refused alike.
    """
    for key in shortcuts:
        if key not in SHORTCUT_NAMES:
            raise GankitError(f"unknown setting '{key}'{did_you_mean(key, SHORTCUT_NAMES)}; "
                              f"accepted: set, {', '.join(SHORTCUT_NAMES)}")
    overrides = []
    for shortcut in SHORTCUTS:  # table order, not the caller's: lr before lr_g and lr_d
        value = shortcuts.get(shortcut.name)
        if value is None:
            continue
        for key in shortcut.keys:
            parsed = parse_value(key, value) if isinstance(value, str) else value
            overrides.append(nested(key, parsed))
    for dotted, value in (set or {}).items():
        overrides.append(nested(dotted, value))
    return overrides

