"""The choices inside the table task and its preset, one training run each on a made-up mixed
table: the categorical head (softmax or straight-through one-hot), PacGAN, the objective, the
learning rate, EMA, and the normalisation of numbers (quantile transform or z-scores).

    python benchmarks/table_choices.py --out runs/bench_table_choices
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import gankit
from gankit.tasks.table import Table

# The settings the sweep started from (before the table preset existed), then each variant.
BASE = {"model.noise_dim": 32, "model.g_hidden": [256, 256], "model.d_hidden": [256, 256],
        "model.activation": "leaky_relu", "model.pack": 1, "train.batch_size": 256,
        "train.loss": "nonsaturating", "train.lr_g": 2e-4, "train.lr_d": 2e-4,
        "train.betas_g": [0.5, 0.9], "train.betas_d": [0.5, 0.9], "train.ema": 0.995,
        "log.eval_every": 500}
VARIANTS = [
    ("softmax head", "softmax", {}),
    ("straight-through head", "straight", {}),
    ("softmax head, pack 8", "softmax", {"model.pack": 8}),
    ("straight-through, pack 8", "straight", {"model.pack": 8}),
    ("straight-through, pack 10, batch 500", "straight", {"model.pack": 10, "train.batch_size": 500}),
    ("... with wasserstein_gp", "straight", {"model.pack": 10, "train.batch_size": 500,
                                             "train.loss": "wasserstein_gp"}),
    ("straight-through, pack 8, lr 1e-3", "straight", {"model.pack": 8, "train.lr_g": 1e-3,
                                                       "train.lr_d": 1e-3}),
    ("straight-through, pack 8, 4000 steps", "straight", {"model.pack": 8, "train.steps": 4000}),
    ("straight-through, pack 8, no EMA", "straight", {"model.pack": 8, "train.ema": 0.0}),
    ("preset, 2000 steps, quantile", "preset", {"train.steps": 2000}),
    ("preset, 2000 steps, standard", "preset", {"train.steps": 2000, "data.normalise": "standard"}),
]


def mixed_table(path: Path, n: int = 1000) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "x": x, "y": 0.8 * x + 0.6 * rng.normal(size=n), "skew": rng.lognormal(0, 1, n),
        "bimodal": np.where(rng.random(n) < 0.5, -3, 3) + rng.normal(0, 0.5, n),
        "count": rng.poisson(30, n), "city": rng.choice(["a", "b", "c", "rare"], n, p=[0.5, 0.3, 0.18, 0.02]),
        "flag": rng.random(n) < 0.3, "rating": rng.integers(1, 6, n)})
    frame.loc[rng.random(n) < 0.1, "skew"] = np.nan
    frame.loc[rng.random(n) < 0.05, "city"] = np.nan
    frame.to_csv(path, index=False)


def softmax_head(self: Table, x: torch.Tensor) -> torch.Tensor:
    """The alternative to the task's straight-through head: a plain softmax per span."""
    out = x.clone()
    for index in self._head_groups:
        out[..., index] = torch.softmax(x[..., index], dim=-1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", default="runs/bench_table_choices")
    args = parser.parse_args()
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "mixed.csv"
    mixed_table(table)
    straight = Table.output_head
    print("| variant | quality_score | detection_auc | seconds |\n|---|---|---|---|")
    for i, (label, head, settings) in enumerate(VARIANTS):
        Table.output_head = softmax_head if head == "softmax" else straight  # type: ignore[method-assign]
        base = {} if head == "preset" else BASE
        settings = {**base, "log.eval_every": 500, **settings}
        steps = settings.pop("train.steps", args.steps)
        started = time.perf_counter()
        run = gankit.train(data=str(table), steps=steps, out=folder / f"run{i}", overwrite=True,
                           figures=False, set=settings)
        s = run.summary
        print(f"| {label} | {s['quality_score']:.3f} | {s['detection_auc']:.3f} | "
              f"{time.perf_counter() - started:.0f} |", flush=True)
    Table.output_head = straight  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
