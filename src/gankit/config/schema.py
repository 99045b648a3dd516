"""The run configuration's schema: dataclasses, their TOML form, and the checks of values that
need nothing but the config itself.

A config fully describes a run: ``config.toml`` in a run folder is the resolved config, and
``gankit train --config that/config.toml`` repeats the run exactly. Names that other layers
define (datasets, architectures, objectives, schedules) are checked by
:func:`gankit.config.resolve.validate`, which knows their registries; this module imports
nothing of gankit's above the core.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import tomli_w

from gankit.core.directions import BETTER, FLOOR
from gankit.core.errors import GankitError

BACKWARDS = ("auto", "autograd")  # train.backward: how the step's gradients are computed
POPULATIONS = ("auto", "whole")  # train.population: members in probed chunks, or all at once

@dataclass
class DataConfig:
    name: str = "parabola"
    params: dict[str, Any] = field(default_factory=dict)  # task parameters, beside ``name``


@dataclass
class ModelConfig:
    arch: str = "mlp"  # an architecture of gankit.nets.ARCHITECTURES
    population: str = "auto"  # how members are stacked: auto, stacked (fast MLP path) or vmap (any module)
    options: dict[str, Any] = field(default_factory=dict)  # the architecture's own options
    noise_dim: int = 5
    g_hidden: list[int] = field(default_factory=lambda: [128])
    d_hidden: list[int] = field(default_factory=lambda: [128])
    activation: str = "relu"
    spectral_norm: bool = False  # spectral normalisation of D's layers (Miyato et al. 2018)
    pack: int = 1  # PacGAN: D judges this many samples at once (Lin et al. 2018)
    # ACGAN (Odena et al. 2017): > 0 gives D a head that names a class condition's class (D no
    # longer reads it) and adds this weight times its cross-entropy to D's and G's losses; 0 = off.
    acgan: float = 0.0


@dataclass
class TrainConfig:
    steps: int = 401  # 0 = no step limit (only with a time budget, train.max_seconds)
    # A length that follows the data: > 0 sets train.steps, once the task is known, to this many
    # passes of D over the training rows (epochs * rows / (batch_size * d_steps)), kept within
    # [min_steps, max_steps]; for a task with a finite set of rows (a table), and only when
    # train.steps was not given (--steps wins). config.toml records the steps it gave. 0 = off.
    epochs: float = 0.0
    min_steps: int = 0  # the floor of a length from train.epochs
    max_steps: int = 0  # its cap; 0 = none
    # Early stop: end the (held-out) training after this many evaluations in a row without a
    # better train.stop_metric than the best so far; the best step's networks are kept
    # (checkpoints/best.pt) and are the run's model. 0 = off.
    patience: int = 0
    stop_metric: str = ""  # the metric early stop watches (its direction from core.directions)
    # After the held-out phase (its length chosen by train.steps or the early stop), train on
    # every row, the held-out ones too, for best_step * held-out rows / training rows more steps
    # from the best step's networks; for a task with held-out rows (a table), else ignored.
    all_rows: bool = False
    batch_size: int = 64
    loss: str = "minimax"
    d_steps: int = 1  # k in Algorithm 1
    lr_g: float = 1e-4
    lr_d: float = 1e-4
    betas_g: list[float] = field(default_factory=lambda: [0.9, 0.999])
    betas_d: list[float] = field(default_factory=lambda: [0.9, 0.999])
    eps: float = 1e-8
    ema: float = 0.0  # decay of the generator's weight average; 0 turns it off
    r1: float = 0.0  # gamma of the R1 penalty on real data (Mescheder et al. 2018); 0 = off
    r2: float = 0.0  # gamma of the R2 penalty on generated data; 0 = off
    weight_clip: float = 0.01  # the 'wasserstein' objective clips D's weights to [-c, c]
    gp_weight: float = 10.0  # lambda of the 'wasserstein_gp' objective's gradient penalty
    lr_schedule: str = "constant"  # constant, linear (to 0) or cosine (to 0) over train.steps
    # Stop after this much training time (an equal-time budget); 0 = none. With a budget, the
    # learning-rate schedule follows the larger of the step and the time fractions.
    max_seconds: float = 0.0
    # torch intra-op CPU threads. A second thread gains nothing for these small MLPs and slows a
    # step several times as soon as another process runs (benchmarks/threads_under_load.py,
    # docs/BENCHMARKS.md); 0 = torch's.
    threads: int = 1
    on_divergence: str = "stop"  # or "rollback": back to the last checkpoint, smaller lr
    # "bf16": forward passes of the step under torch.autocast in bfloat16 (weights, optimizer
    # and losses stay float32); meant for the convolutional networks on a GPU. "none": float32.
    amp: str = "none"
    # "auto": the fastest gradient path that computes autograd's very numbers (the hand-written
    # backward of plain MLPs); "autograd": always autograd, the reference, to check a run against.
    backward: str = "auto"
    # true: the step's two gradient phases through torch.compile (training/compiled.py): 23-52 s
    # of compiling at the start, other rounding than eager's, a C++ compiler needed on the CPU, no
    # R1/R2/GP penalties; on 2 CPU cores no preset's step got faster (benchmarks/compile_step.py).
    compile: bool = False
    # A population on the hand-written path: "auto" computes it in chunks of members on one or two
    # threads, the fastest plan its first steps find (the same bits either way; run.json records
    # it as population_path); "whole": every member at once.
    population: str = "auto"
    max_rollbacks: int = 3
    rollback_lr_factor: float = 0.5


@dataclass
class LogConfig:
    log_every: int = 10
    eval_every: int = 100
    eval_samples: int = 0  # generated samples per evaluation; 0 = the task's own (16,384; 2,500 on ring/grid)
    # Evaluations during training use at most this many samples (0 = eval_samples, the default):
    # a quarter of the sample costs a fifth of the time but is noisier and, near convergence,
    # biased upwards (a_w1 on 4,096 curves reads 0.015-0.026 where 16,384 read 0.0115;
    # docs/BENCHMARKS.md). The final evaluation, the one in summary.json, always uses eval_samples.
    interim_eval_samples: int = 0
    snapshot_every: int = 100
    checkpoint_every: int = 1000
    keep_checkpoints: int = 2
    # Evaluations during training run in a second thread on a copy of the networks while
    # training goes on (one process on the CPU with a core to spare); the rows are the same,
    # written when ready. The final evaluation always runs in the training thread.
    background_eval: bool = True
    tensorboard: bool = False  # TensorBoard event files in RUN/tensorboard/ (pip install gankit[tensorboard])


@dataclass
class Config:
    name: str = ""
    seed: int = 0
    seeds: int = 1  # independent members trained at once, with seeds seed .. seed + seeds - 1
    device: str = "cpu"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["data"] = {"name": self.data.name, **self.data.params}
        return out

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())


def check_values(config: Config) -> None:
    """Check ranges, sizes and the names fixed here; raise GankitError naming the first problem."""
    if not (config.train.steps > 0 or (config.train.steps == 0 and config.train.max_seconds > 0)):
        raise GankitError(f"train.steps must be positive, got {config.train.steps} (0, no step "
                          "limit, only with a time budget train.max_seconds)")
    positive = {
        "train.batch_size": config.train.batch_size,
        "train.d_steps": config.train.d_steps,
        "train.lr_g": config.train.lr_g,
        "train.lr_d": config.train.lr_d,
        "train.eps": config.train.eps,
        "train.weight_clip": config.train.weight_clip,
        "seeds": config.seeds,
        "model.pack": config.model.pack,
        "model.noise_dim": config.model.noise_dim,
        "log.log_every": config.log.log_every,
        "log.eval_every": config.log.eval_every,
        "log.snapshot_every": config.log.snapshot_every,
        "log.checkpoint_every": config.log.checkpoint_every,
        "log.keep_checkpoints": config.log.keep_checkpoints,
    }
    for key, value in positive.items():
        if not value > 0:
            raise GankitError(f"{key} must be positive, got {value}")
    for key, betas in {"train.betas_g": config.train.betas_g, "train.betas_d": config.train.betas_d}.items():
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise GankitError(f"{key} must be two numbers in [0, 1), got {betas}")
    if not 0 <= config.train.ema < 1:
        raise GankitError(f"train.ema must be in [0, 1) (0 turns it off), got {config.train.ema}")
    for key, value in {"train.r1": config.train.r1, "train.r2": config.train.r2,
                       "log.eval_samples": config.log.eval_samples,
                       "log.interim_eval_samples": config.log.interim_eval_samples,
                       "train.gp_weight": config.train.gp_weight, "model.acgan": config.model.acgan,
                       "train.max_seconds": config.train.max_seconds}.items():
        if not value >= 0:
            raise GankitError(f"{key} must be 0 (off) or more, got {value}")
    _check_length(config.train)
    if config.train.batch_size % config.model.pack:
        raise GankitError(f"train.batch_size ({config.train.batch_size}) must be a multiple of "
                          f"model.pack ({config.model.pack})")
    if config.train.backward not in BACKWARDS:
        raise GankitError(f"train.backward must be one of {', '.join(BACKWARDS)}, "
                          f"got '{config.train.backward}'")
    if config.train.population not in POPULATIONS:
        raise GankitError(f"train.population must be one of {', '.join(POPULATIONS)}, "
                          f"got '{config.train.population}'")
    if not isinstance(config.train.compile, bool):
        raise GankitError(f"train.compile must be true or false, got {config.train.compile!r}")
    if config.train.amp not in ("none", "bf16"):
        raise GankitError(f"train.amp must be 'none' or 'bf16', got '{config.train.amp}'")
    if config.train.on_divergence not in ("stop", "rollback"):
        raise GankitError(f"train.on_divergence must be 'stop' or 'rollback', "
                          f"got '{config.train.on_divergence}'")
    if config.train.max_rollbacks < 0:
        raise GankitError(f"train.max_rollbacks must be 0 or more, got {config.train.max_rollbacks}")
    if not 0 < config.train.rollback_lr_factor < 1:
        raise GankitError(f"train.rollback_lr_factor must be in (0, 1), "
                          f"got {config.train.rollback_lr_factor}")
    if not 0 <= config.seed < 2**32:
        raise GankitError(f"seed must be a whole number from 0 to 2^32 - 1, got {config.seed}")
    if config.train.threads > 256:
        raise GankitError(f"train.threads must be at most 256, got {config.train.threads}")
    if config.name and not re.fullmatch(r"[A-Za-z0-9_.+=-][A-Za-z0-9_.+= -]*", config.name):
        raise GankitError(f"name may hold letters, digits, spaces and _ . + = - only, got '{config.name}'")
    if config.train.threads < 0:
        raise GankitError(f"train.threads must be 0 (torch's default) or more, got {config.train.threads}")
    widths_by_key = {"model.g_hidden": config.model.g_hidden, "model.d_hidden": config.model.d_hidden}
    for key, widths in widths_by_key.items():
        if not all(w > 0 for w in widths):
            raise GankitError(f"{key} must list positive layer widths, got {widths}")
    if not (config.device == "cpu" or config.device == "cuda" or config.device.startswith("cuda:")):
        raise GankitError(f"device must be 'cpu', 'cuda' or 'cuda:N', got '{config.device}'")


def _check_length(train: TrainConfig) -> None:
    """The keys of a run's length: epochs with its floor and cap, early stop, the all-rows phase."""
    for key in ("epochs", "min_steps", "max_steps", "patience"):
        if not getattr(train, key) >= 0:
            raise GankitError(f"train.{key} must be 0 (off) or more, got {getattr(train, key)}")
    if train.max_steps and train.min_steps > train.max_steps:
        raise GankitError(f"train.min_steps ({train.min_steps}) is above train.max_steps ({train.max_steps})")
    if train.patience:
        direction = BETTER.get(train.stop_metric)
        if direction is None or direction == FLOOR:
            known = ", ".join(k for k, v in BETTER.items() if v != FLOOR)
            raise GankitError(f"train.patience needs train.stop_metric, a metric with a better direction "
                              f"(one of: {known}), got '{train.stop_metric}'")
    if (train.patience or train.all_rows) and train.lr_schedule != "constant":
        raise GankitError(f"train.patience and train.all_rows need train.lr_schedule = 'constant' (got "
                          f"'{train.lr_schedule}'): a schedule laid over train.steps would end in the "
                          "middle of an early-stopped run, or before its all-rows phase")
