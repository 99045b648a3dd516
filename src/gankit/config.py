"""Run configuration: dataclasses, TOML round trip, validation and presets.

A config fully describes a run: ``config.toml`` in a run folder is the resolved config, and
``gankit train --config that/config.toml`` repeats the run exactly.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from gankit.errors import GankitError, did_you_mean


@dataclass
class DataConfig:
    name: str = "parabola"
    params: dict[str, Any] = field(default_factory=dict)  # task parameters, beside ``name``


@dataclass
class ModelConfig:
    arch: str = "mlp"  # an architecture of gankit.architectures.ARCHITECTURES
    population: str = "auto"  # how members are stacked: auto, stacked (fast MLP path) or vmap (any module)
    options: dict[str, Any] = field(default_factory=dict)  # the architecture's own options
    noise_dim: int = 5
    g_hidden: list[int] = field(default_factory=lambda: [128])
    d_hidden: list[int] = field(default_factory=lambda: [128])
    activation: str = "relu"
    spectral_norm: bool = False  # spectral normalisation of D's layers (Miyato et al. 2018)
    pack: int = 1  # PacGAN: D judges this many samples at once (Lin et al. 2018)


@dataclass
class TrainConfig:
    steps: int = 401  # 0 = no step limit (only with a time budget, train.max_seconds)
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
    # step 3.7x as soon as another process runs (benchmarks/threads_under_load.py); 0 = torch's.
    threads: int = 1
    on_divergence: str = "stop"  # or "rollback": back to the last checkpoint, smaller lr
    # "bf16": forward passes of the step under torch.autocast in bfloat16 (weights, optimizer
    # and losses stay float32); meant for the convolutional networks on a GPU. "none": float32.
    amp: str = "none"
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

    def validate(self) -> Config:
        """Check ranges and names; raise GankitError naming the first problem."""
        from gankit.models import ACTIVATIONS
        from gankit.objectives import OBJECTIVES
        from gankit.tasks import make_task

        if not (self.train.steps > 0 or (self.train.steps == 0 and self.train.max_seconds > 0)):
            raise GankitError(f"train.steps must be positive, got {self.train.steps} (0, no step "
                              "limit, only with a time budget train.max_seconds)")
        positive = {
            "train.batch_size": self.train.batch_size,
            "train.d_steps": self.train.d_steps,
            "train.lr_g": self.train.lr_g,
            "train.lr_d": self.train.lr_d,
            "train.eps": self.train.eps,
            "train.weight_clip": self.train.weight_clip,
            "seeds": self.seeds,
            "model.pack": self.model.pack,
            "model.noise_dim": self.model.noise_dim,
            "log.log_every": self.log.log_every,
            "log.eval_every": self.log.eval_every,
            "log.snapshot_every": self.log.snapshot_every,
            "log.checkpoint_every": self.log.checkpoint_every,
            "log.keep_checkpoints": self.log.keep_checkpoints,
        }
        for key, value in positive.items():
            if not value > 0:
                raise GankitError(f"{key} must be positive, got {value}")
        for key, betas in {"train.betas_g": self.train.betas_g, "train.betas_d": self.train.betas_d}.items():
            if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
                raise GankitError(f"{key} must be two numbers in [0, 1), got {betas}")
        if not 0 <= self.train.ema < 1:
            raise GankitError(f"train.ema must be in [0, 1) (0 turns it off), got {self.train.ema}")
        for key, value in {"train.r1": self.train.r1, "train.r2": self.train.r2,
                           "log.eval_samples": self.log.eval_samples,
                           "log.interim_eval_samples": self.log.interim_eval_samples,
                           "train.gp_weight": self.train.gp_weight,
                           "train.max_seconds": self.train.max_seconds}.items():
            if not value >= 0:
                raise GankitError(f"{key} must be 0 (off) or more, got {value}")
        if self.train.batch_size % self.model.pack:
            raise GankitError(f"train.batch_size ({self.train.batch_size}) must be a multiple of "
                              f"model.pack ({self.model.pack})")
        from gankit.optim import LR_SCHEDULES

        if self.train.lr_schedule not in LR_SCHEDULES:
            raise GankitError(f"train.lr_schedule must be one of {', '.join(LR_SCHEDULES)}, "
                              f"got '{self.train.lr_schedule}'")
        if self.train.amp not in ("none", "bf16"):
            raise GankitError(f"train.amp must be 'none' or 'bf16', got '{self.train.amp}'")
        if self.train.on_divergence not in ("stop", "rollback"):
            raise GankitError(f"train.on_divergence must be 'stop' or 'rollback', "
                              f"got '{self.train.on_divergence}'")
        if self.train.max_rollbacks < 0:
            raise GankitError(f"train.max_rollbacks must be 0 or more, got {self.train.max_rollbacks}")
        if not 0 < self.train.rollback_lr_factor < 1:
            raise GankitError(f"train.rollback_lr_factor must be in (0, 1), "
                              f"got {self.train.rollback_lr_factor}")
        if not 0 <= self.seed < 2**32:
            raise GankitError(f"seed must be a whole number from 0 to 2^32 - 1, got {self.seed}")
        if self.train.threads > 256:
            raise GankitError(f"train.threads must be at most 256, got {self.train.threads}")
        if self.name and not re.fullmatch(r"[A-Za-z0-9_.+=-][A-Za-z0-9_.+= -]*", self.name):
            raise GankitError(f"name may hold letters, digits, spaces and _ . + = - only, got '{self.name}'")
        if self.train.threads < 0:
            raise GankitError(f"train.threads must be 0 (torch's default) or more, got {self.train.threads}")
        widths_by_key = {"model.g_hidden": self.model.g_hidden, "model.d_hidden": self.model.d_hidden}
        for key, widths in widths_by_key.items():
            if not all(w > 0 for w in widths):
                raise GankitError(f"{key} must list positive layer widths, got {widths}")
        if not (self.device == "cpu" or self.device == "cuda" or self.device.startswith("cuda:")):
            raise GankitError(f"device must be 'cpu', 'cuda' or 'cuda:N', got '{self.device}'")
        OBJECTIVES.get(self.train.loss)
        ACTIVATIONS.get(self.model.activation)
        from gankit.architectures import ARCHITECTURES
        from gankit.population import PATHS

        ARCHITECTURES.get(self.model.arch).parse_options(self.model.options, self.model.arch)
        if self.model.population not in PATHS:
            raise GankitError(f"model.population must be one of {', '.join(PATHS)}, "
                              f"got '{self.model.population}'")
        task = make_task(self.data.name, self.data.params)
        # Resolve the task's parameters too, so config.toml states every value the run used.
        self.data.params = {f.name: _plain(getattr(task, f.name)) for f in dataclasses.fields(task)}
        return self


def _plain(value: Any) -> Any:
    """Tuples as lists, so that a resolved value writes to TOML and reads back equal."""
    return [_plain(v) for v in value] if isinstance(value, (tuple, list)) else value


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
    return _nested(key.strip(), parse_value(key.strip(), raw))


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
    Shortcut("noise_dim", ("model.noise_dim",), "size of G's noise input z", "model", "N"),
    Shortcut("g_hidden", ("model.g_hidden",), "G's hidden layer widths, e.g. 256,256", "model", "W,W"),
    Shortcut("d_hidden", ("model.d_hidden",), "D's hidden layer widths, e.g. 256,256", "model", "W,W"),
    Shortcut("activation", ("model.activation",), "hidden activation: relu, leaky_relu, elu, ...",
             "model", "NAME"),
    Shortcut("loss", ("train.loss",), "objective: minimax, nonsaturating, least_squares, hinge, "
             "wasserstein, wasserstein_gp", "training", "NAME"),
    Shortcut("steps", ("train.steps",), "training iterations (with --resume: the new total)",
             "training", "N", resume_ok=True),
    Shortcut("batch_size", ("train.batch_size",), "real and fake samples per step", "training", "N"),
    Shortcut("d_steps", ("train.d_steps",), "discriminator steps per generator step (k)", "training", "K"),
    Shortcut("lr", ("train.lr_g", "train.lr_d"), "learning rate of both networks (--lr-g/--lr-d win "
             "over it)", "training", "LR"),
    Shortcut("lr_g", ("train.lr_g",), "generator learning rate", "training", "LR"),
    Shortcut("lr_d", ("train.lr_d",), "discriminator learning rate", "training", "LR"),
    Shortcut("ema", ("train.ema",), "decay of the generator's weight average (0 = off)", "training", "DECAY"),
    Shortcut("seed", ("seed",), "random seed of the run (of its first member)", "training", "S"),
    Shortcut("seeds", ("seeds",), "train this many independent members at once (seeds S, S+1, ...); "
             "on 2 CPU cores this costs about as long as as many separate runs", "training", "N"),
    Shortcut("device", ("device",), "cpu, cuda or cuda:N", "training", "DEVICE"),
    Shortcut("threads", ("train.threads",), "torch CPU threads (default 1, fastest for small "
             "networks; 0 = torch's default)", "training", "N"),
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


def _nested(dotted: str, value: Any) -> dict[str, Any]:
    *parents, leaf = dotted.split(".")
    nested: dict[str, Any] = {leaf: value}
    for part in reversed(parents):
        nested = {part: nested}
    return nested


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
            overrides.append(_nested(key, parsed))
    for dotted, value in (set or {}).items():
        overrides.append(_nested(dotted, value))
    return overrides


# Presets: named starting points. ``default`` is tuned for quality within a minute on a 2-core
# CPU (docs/BENCHMARKS.md); ``seed`` is the seed document's program, setting for setting.
def _seed_preset() -> dict[str, Any]:
    return Config(name="seed").to_dict() | {
        # Evaluating every 50 steps would cost more than the 401 steps themselves; far from
        # convergence, as this run stays, 4,096 curves measure as well as 16,384.
        "log": dataclasses.asdict(LogConfig(log_every=10, eval_every=50, snapshot_every=100,
                                            checkpoint_every=401, interim_eval_samples=4096)),
    }


def _default_preset() -> dict[str, Any]:
    # From a sweep of about 70 runs (docs/BENCHMARKS.md): Adam's beta1 = 0 is what matters
    # (with 0.5 or 0.9 the fitted a collapses to a narrow bump, a_w1 ~ 0.25); ELU reaches the
    # thresholds in fewer steps than leaky ReLU; an EMA of 0.995 smooths without lagging (0.999
    # lags by ~3000 steps); lr 2e-3 is faster but diverges later; after ~4500 steps a_w1 drifts up.
    config = Config(
        name="parabola",
        model=ModelConfig(noise_dim=5, g_hidden=[128, 128], d_hidden=[128, 128], activation="elu"),
        train=TrainConfig(steps=4000, batch_size=256, loss="nonsaturating", lr_g=1e-3, lr_d=1e-3,
                          betas_g=[0.0, 0.999], betas_d=[0.0, 0.999], ema=0.995),
        log=LogConfig(log_every=50, eval_every=250, snapshot_every=200, checkpoint_every=1000),
    )
    return config.to_dict()


def _mixture_preset(task: str) -> Callable[[], dict[str, Any]]:
    # The best of a sweep on ring (docs/BENCHMARKS.md): R1 = 0.1 keeps D smooth enough for all
    # modes to be found, a linear learning-rate decay sharpens the modes at the end, EMA 0.999.
    # It does not reach the targets: hq_fraction plateaus near 0.80 on ring.
    def build() -> dict[str, Any]:
        config = Config(
            name=task,
            data=DataConfig(task),
            model=ModelConfig(noise_dim=2, g_hidden=[128, 128], d_hidden=[128, 128],
                              activation="leaky_relu"),
            train=TrainConfig(steps=12000, batch_size=256, loss="nonsaturating", lr_g=1e-3, lr_d=1e-3,
                              betas_g=[0.5, 0.999], betas_d=[0.5, 0.999], ema=0.999, r1=0.1,
                              lr_schedule="linear"),
            log=LogConfig(log_every=100, eval_every=1000, snapshot_every=500, checkpoint_every=2000),
        )
        return config.to_dict()

    return build


def _image_preset(task: str, steps: int, snapshot_every: int) -> Callable[[], dict[str, Any]]:
    # DCGAN's settings (Radford et al. 2016: Adam lr 2e-4, beta1 0.5, batch 64) with the dcgan
    # architecture at width 32; on the digits this reached fd within 2x its floor, 10/10
    # classes and class_kl 0.035 in 3,000 steps, about a minute on the 2-core CPU
    # (docs/BENCHMARKS.md). The image-folder preset is the same, untuned.
    def build() -> dict[str, Any]:
        config = Config(
            name=task,
            data=DataConfig(task),
            model=ModelConfig(arch="dcgan", options={"width": 32}, noise_dim=32),
            train=TrainConfig(steps=steps, batch_size=64, loss="nonsaturating", lr_g=2e-4, lr_d=2e-4,
                              betas_g=[0.5, 0.999], betas_d=[0.5, 0.999]),
            log=LogConfig(log_every=50, eval_every=500, snapshot_every=snapshot_every, checkpoint_every=1000),
        )
        return config.to_dict()

    return build


def _table_preset() -> dict[str, Any]:
    # A user's table (gankit.tasks.table); chosen by a short sweep on a made-up mixed table
    # (benchmarks/table_choices.py, docs/BENCHMARKS.md section 13): PacGAN 10 and EMA matter most.
    config = Config(
        name="table",
        data=DataConfig("table"),
        model=ModelConfig(noise_dim=32, g_hidden=[256, 256], d_hidden=[256, 256], activation="leaky_relu",
                          pack=10),
        train=TrainConfig(steps=4000, batch_size=500, loss="nonsaturating", lr_g=2e-4, lr_d=2e-4,
                          betas_g=[0.5, 0.9], betas_d=[0.5, 0.9], ema=0.995),
        log=LogConfig(log_every=50, eval_every=500, eval_samples=2000, snapshot_every=500,
                      checkpoint_every=1000),
    )
    return config.to_dict()


def _pacgan_preset() -> dict[str, Any]:
    # PacGAN's 2-D experiments (Lin et al. 2018, after VEEGAN): G of 4 x 400 units with batch
    # norm and ReLU on 2-D Gaussian noise, D of 3 maxout layers of 200 units with 5 pieces,
    # the non-saturating loss, Adam lr 1e-4 and beta1 0.8, batches of 100. model.pack = 1 is
    # PacGAN's plain "GAN" row; --set model.pack=2..4 packs (pack 3 needs a batch of 99 or 102).
    config = Config(
        name="pacgan",
        data=DataConfig("ring"),
        model=ModelConfig(arch="pacgan_mlp", noise_dim=2, g_hidden=[400] * 4, d_hidden=[200] * 3,
                          activation="relu", options={"maxout_pieces": 5, "batch_norm": True}),
        train=TrainConfig(steps=20000, batch_size=100, loss="nonsaturating", lr_g=1e-4, lr_d=1e-4,
                          betas_g=[0.8, 0.999], betas_d=[0.8, 0.999]),
        log=LogConfig(log_every=100, eval_every=1000, snapshot_every=1000, checkpoint_every=2000),
    )
    return config.to_dict()


PRESETS: dict[str, Callable[[], dict[str, Any]]] = {
    "default": _default_preset, "seed": _seed_preset, "ring": _mixture_preset("ring"),
    "grid": _mixture_preset("grid"), "pacgan": _pacgan_preset, "table": _table_preset,
    "digits": _image_preset("digits", 4000, 250),
    # A snapshot of 32x32 RGB images is about 1 MB of snapshots.jsonl: ten of them over the run.
    "images": _image_preset("images", 10000, 1000),
}
# One line each for ``gankit train --help``; the reasons behind the values are in docs/BENCHMARKS.md.
PRESET_HELP = {
    "default": "tuned on the curve task (Adam beta1 = 0, ELU, EMA 0.995, 4000 steps, ~15 s)",
    "seed": "the seed document's program, setting for setting (401 steps; does not converge)",
    "ring": "the best found for the 8-mode ring (R1 0.1, linear lr decay, 12000 steps)",
    "grid": "the ring's settings on the 25-mode grid",
    "pacgan": "PacGAN's 2-D set-up: G 4x400 batch norm, D 3x200 maxout(5), lr 1e-4, beta1 0.8, "
              "batch 100; --set model.pack=1..4",
    "table": "a CSV/TSV/.npy table (--data FILE.csv): MLP 256x2, nonsaturating, pack 10, EMA 0.995, "
             "4000 steps",
    "digits": "dcgan (width 32) with DCGAN's Adam settings on the 8x8 digits (4000 steps, ~1.5 min)",
    "images": "the digits preset's settings for a folder of images, untuned (10000 steps)",
}


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise GankitError(f"unknown preset '{name}'{did_you_mean(name, PRESETS)}; "
                          f"choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]()


def data_preset(data_name: str) -> str:
    """The preset a dataset recommends (its task's ``preset``), 'default' when it names none."""
    from gankit.tasks import TASKS

    if data_name not in TASKS.names():
        return "default"  # validation names the unknown dataset; the preset does not matter
    return getattr(TASKS.get(data_name), "preset", "default")


def _data_name(file_values: dict[str, Any], overrides: list[dict[str, Any]]) -> str:
    """The dataset a run will use, before any preset is applied: the last one named wins."""
    name = DataConfig.name
    for layer in [file_values, *overrides]:
        data = layer.get("data")
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            name = data["name"]
    return name


def _with_data_source(override: dict[str, Any]) -> dict[str, Any]:
    """An override whose ``data.name`` is a path, with the task that reads it and ``data.path``."""
    data = override.get("data")
    if not (isinstance(data, dict) and isinstance(data.get("name"), str)):
        return override
    from gankit.tasks import data_source

    name, params = data_source(data["name"])
    return {**override, "data": {**data, **params, "name": name}}


def resolve_config(
    preset_name: str | None = None,
    config_file: str | Path | None = None,
    overrides: list[dict[str, Any]] | None = None,
) -> Config:
    """Preset, then a TOML file, then overrides, each on top of the last; then validate.

    Without a preset name the dataset's own preset is used (``data="ring"`` -> ``ring``), so
    the defaults follow the data; an explicit preset always wins.
    """
    file_values = read_toml(config_file) if config_file is not None else {}
    overrides = [_with_data_source(o) for o in overrides or []]
    if preset_name is None:
        preset_name = data_preset(_data_name(file_values, overrides or []))
    values = merge(preset(preset_name), file_values)
    for override in overrides or []:
        data = override.get("data", {})
        if not isinstance(data, dict):
            raise GankitError("config key 'data' is a table: set its parts, e.g. data.name=ring")
        new_name = data.get("name")
        if new_name is not None and new_name != values.get("data", {}).get("name"):
            values = {**values, "data": {}}  # another dataset: the old one's parameters go
        values = merge(values, override)
    return config_from_dict(values).validate()


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
