"""Presets: named starting points for a run, each a full config as a dict."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from gankit.config.schema import Config, DataConfig, LogConfig, ModelConfig, TrainConfig
from gankit.core.errors import GankitError, did_you_mean


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
    # architecture at width 32; on the digits this reached fd within 2x its floor and 10/10
    # classes (the measured steps and seconds are in docs/BENCHMARKS.md). The image-folder
    # preset is the same, untuned.
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


def _images_cpu_preset() -> dict[str, Any]:
    # A folder of images on a CPU (benchmarks/image_folder.py, docs/BENCHMARKS.md: 32x32 RGB
    # crops of photos, 2 cores, one thread). DCGAN's settings (images-gpu) cost 0.6-1.5 s a step
    # there, by the load, and were still mode-collapsed after their 900 steps in 10 minutes.
    # Width 16 with batches of 32 costs a fifth of that; PacGAN's packing of 2 (Lin et al. 2018)
    # is what got G out of the collapse (without it, widths 8 and 16, batches of 32 and 64, the
    # non-saturating and least-squares losses, R1 0.1, EMA and lr 5e-4 all still drew nearly one
    # image after 1,000-4,500 steps, fd 95-200x its floor), and it makes D cheaper (a seventh of
    # DCGAN's step in all); lr 4e-4 left the collapse a little sooner than 2e-4 (after 800-1,000
    # steps against 1,000-1,500 in short screening runs); an EMA of 0.995 steadies the colours,
    # which the feature-space fd weighs heavily (0.999 lagged ~1,000 steps behind the escape).
    # R1 0.1 (with the packing) stops fd drifting back up after its low, and a folder asked for
    # its classes learns them a little better, for a fifth to a quarter more per step. With pack 1
    # (the projection discriminator) it holds the classes back: README, docs/BENCHMARKS.md s. 15.
    config = Config(
        name="images",
        data=DataConfig("images"),
        model=ModelConfig(arch="dcgan", options={"width": 16}, noise_dim=32, pack=2),
        train=TrainConfig(steps=6000, batch_size=32, loss="nonsaturating", lr_g=4e-4, lr_d=4e-4,
                          betas_g=[0.5, 0.999], betas_d=[0.5, 0.999], ema=0.995, r1=0.1),
        # an evaluation (about 3 s beside training) every ~50 s; a snapshot is 1-2 MB of
        # snapshots.jsonl: seven of them
        log=LogConfig(log_every=50, eval_every=500, snapshot_every=1000, checkpoint_every=1000),
    )
    return config.to_dict()


def _table_preset() -> dict[str, Any]:
    # A user's table (gankit.tasks.table); chosen by a short sweep on a made-up mixed table
    # (benchmarks/table_choices.py, docs/BENCHMARKS.md section 13): PacGAN 10 and EMA matter most.
    config = Config(
        name="table",
        data=DataConfig("table", {"match_shares": 1.0}),
        model=ModelConfig(noise_dim=32, g_hidden=[256, 256], d_hidden=[256, 256], activation="leaky_relu",
                          pack=10),
        # The length follows the table: 100 passes of D over the rows within 2,000-4,000 steps,
        # an early stop after 8 evaluations (800 steps) without a better held-out quality_score.
        # The floor of 2,000: at 800 steps diabetes scored 0.05 lower by SDMetrics, and rare
        # categories' shares were not yet settled. The all-rows phase (issue 26) is off: scored
        # on rows set aside, it helped the smallest table and lost on the two larger ones.
        # match_shares keeps rare categories' and missing values' shares at no cost in
        # quality_score. Numbers: docs/BENCHMARKS.md, section 18.
        train=TrainConfig(steps=4000, epochs=100.0, min_steps=2000, max_steps=4000, patience=8,
                          stop_metric="quality_score", all_rows=False,
                          batch_size=500, loss="nonsaturating", lr_g=2e-4, lr_d=2e-4,
                          betas_g=[0.5, 0.9], betas_d=[0.5, 0.9], ema=0.995),
        log=LogConfig(log_every=50, eval_every=100, eval_samples=2000, snapshot_every=500,
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
    "images": _images_cpu_preset,
    # A snapshot of 32x32 RGB images is 1-2 MB of snapshots.jsonl: ten of them over the run.
    "images-gpu": _image_preset("images", 10000, 1000),
}
# One line each for ``gankit train --help``; the reasons behind the values are in docs/BENCHMARKS.md.
PRESET_HELP = {
    "default": "tuned on the curve task (Adam beta1 = 0, ELU, EMA 0.995, 4000 steps, ~15 s)",
    "seed": "the seed document's program, setting for setting (401 steps; does not converge)",
    "ring": "the best found for the 8-mode ring (R1 0.1, linear lr decay, 12000 steps)",
    "grid": "the ring's settings on the 25-mode grid",
    "pacgan": "PacGAN's 2-D set-up: G 4x400 batch norm, D 3x200 maxout(5), lr 1e-4, beta1 0.8, "
              "batch 100; --set model.pack=1..4",
    "table": "a CSV/TSV/.npy table (--data FILE.csv): MLP 256x2, nonsaturating, pack 10, EMA 0.995; "
             "100 epochs in 2000-4000 steps, early stop, one-hot shares matched",
    "digits": "dcgan (width 32) with DCGAN's Adam settings on the 8x8 digits (4000 steps, ~1.5 min)",
    "images": "a folder of images (--data DIR/) on a CPU: dcgan width 16, batch 32, PacGAN pack 2, "
              "lr 4e-4, EMA 0.995, R1 0.1, 6000 steps, ~10 min on 2 cores",
    "images-gpu": "DCGAN's settings for a folder of images, for a GPU: dcgan width 32, batch 64, lr 2e-4, "
                  "10000 steps (0.6-1.5 s a step on 2 CPU cores: 2-4 h)",
}


def preset(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise GankitError(f"unknown preset '{name}'{did_you_mean(name, PRESETS)}; "
                          f"choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]()

