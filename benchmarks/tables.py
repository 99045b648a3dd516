"""gankit against CTGAN on scikit-learn's iris and diabetes tables, at an equal wall-clock budget,
both scored by gankit's table metrics against the same held-out rows.

CTGAN is not a dependency of gankit: run this with a Python that has both, e.g. a venv made
for the benchmark (docs/BENCHMARKS.md, section 13). Without ctgan, gankit is measured alone.

CTGAN trains on the training rows of gankit's split (its discrete columns are the ones gankit
treats as categories), for as many epochs as fit in the budget (timed from fits of 5 and 25
epochs); gankit
then trains for CTGAN's measured time (``train.max_seconds``). Each model then generates
``--rows`` rows from ``--seed`` (0), which are scored by :func:`gankit.tasks.table_metrics.table_metrics`.
Both use one CPU thread. ``out_of_range`` is the share of generated numbers outside the training
rows' range, counted before gankit's scoring clips them.

    python benchmarks/tables.py --seconds 60 --out runs/bench_tables
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import gankit
from gankit.tasks import make_task

KEYS = ("quality_score", "column_shapes", "column_pair_trends", "detection_auc", "ml_efficacy", "dcr_share")


def datasets(folder: Path) -> dict[str, tuple[Path, str]]:
    from sklearn.datasets import load_diabetes, load_iris

    iris = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    out = {}
    for name, frame, target in (("iris", iris, "species"), ("diabetes", diabetes, "target")):
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        out[name] = (path, target)
    return out


def out_of_range(task, frame: pd.DataFrame) -> float:
    outside, total = 0, 0
    for column in task.codec.modelled:
        if column.numeric:
            values = pd.to_numeric(frame[column.name], errors="coerce").dropna().to_numpy()
            outside += int(((values < column.low) | (values > column.high)).sum())
            total += len(values)
    return outside / max(total, 1)


def score(task, frame: pd.DataFrame) -> dict[str, float]:
    metrics = task.metrics(task.encode(frame[task.train_frame.columns]).numpy())
    return {**metrics, "out_of_range": out_of_range(task, frame)}


def run_ctgan(task, seconds: float, rows: int, seed: int) -> tuple[pd.DataFrame, float, int]:
    from ctgan import CTGAN

    discrete = [c.name for c in task.codec.modelled if c.categorical]

    def fit(epochs: int) -> tuple[CTGAN, float]:
        started = time.perf_counter()
        model = CTGAN(epochs=epochs)
        model.set_random_state(seed)
        model.fit(task.train_frame, discrete)
        return model, time.perf_counter() - started

    fit(1)  # the first fit pays for imports and warm-up
    (_, short), (_, long) = fit(5), fit(25)
    per_epoch = (long - short) / 20
    epochs = max(1, int((seconds - (short - 5 * per_epoch)) / per_epoch))
    model, elapsed = fit(epochs)
    model.set_random_state(seed)
    return model.sample(rows), elapsed, epochs


def run_gankit(path: Path, target: str, seconds: float, rows: int, out: Path,
               seed: int) -> tuple[pd.DataFrame, float, int]:
    started = time.perf_counter()
    run = gankit.train(data=str(path), out=out, overwrite=True, figures=False, seed=seed,
                       set={"data.target": target, "train.steps": 0, "train.max_seconds": seconds})
    elapsed = time.perf_counter() - started
    return run.sample(rows, seed=seed), elapsed, run.summary["step"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="budget per model and table")
    parser.add_argument("--rows", type=int, default=2000, help="generated rows scored per model")
    parser.add_argument("--seed", type=int, default=0, help="seed of both models (the split stays)")
    parser.add_argument("--tables", default="iris,diabetes", help="comma-separated: iris, diabetes")
    parser.add_argument("--out", default="runs/bench_tables")
    args = parser.parse_args()
    torch.set_num_threads(1)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import ctgan  # noqa: F401
        have_ctgan = True
    except ImportError:
        have_ctgan = False
        print("ctgan is not installed: gankit is measured alone, for --seconds")
    results = {}
    for name, (path, target) in datasets(folder).items():
        if name not in args.tables.split(","):
            continue
        task = make_task("table", {"path": str(path), "target": target})
        budget = args.seconds
        if have_ctgan:
            frame, elapsed, epochs = run_ctgan(task, args.seconds, args.rows, args.seed)
            results[f"{name}/ctgan"] = {**score(task, frame), "seconds": elapsed, "steps": f"{epochs} epochs"}
            budget = elapsed
        frame, elapsed, steps = run_gankit(path, target, budget, args.rows, folder / f"{name}-gankit",
                                           args.seed)
        results[f"{name}/gankit"] = {**score(task, frame), "seconds": elapsed, "steps": f"{steps} steps"}
        floors = score(task, task.train_frame.sample(min(args.rows, len(task.train_frame)), random_state=0))
        results[f"{name}/floor"] = {**{k: floors.get(f"{k}_floor", float("nan")) for k in KEYS},
                                    "out_of_range": 0.0, "seconds": 0.0, "steps": "-"}
    columns = (*KEYS, "out_of_range", "seconds", "steps")
    print("| table / model | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for key, row in results.items():
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns]
        print(f"| {key} | " + " | ".join(cells) + " |")
    (folder / "results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
