"""Tables on request: gankit conditioned on a category or a number column against SDV's CTGAN
``sample_from_conditions``, both scored by SDMetrics' QualityReport on the held-out rows that
have the value asked for (a category) or are near it (a number).

For iris (``species``) and diabetes (``sex``): gankit trains with ``--condition-on COLUMN`` as a
user runs it (a whole ``gankit train`` process, the table preset), CTGAN with SDV's defaults on
the same training rows (gankit's split). For each value of the column, each model is asked for
as many rows as ``--per-value`` (200) with that value; the rows are scored against the held-out
rows with that value (SDMetrics' QualityReport: shapes and pair trends; the column itself is
constant there and left out), and the share of rows that hold the value is reported (gankit's
are made to: a hard condition; SDV's CTGAN samples by rejection). The ceiling: the training rows
with that value against the held-out rows with it.

A number column (``diabetes-age``: diabetes' ``age``; ``mixed-age``: the made-up customer table's
``age``, tied to income, plan and signup) is cut at its training values' quartiles, as gankit's
``conditional_shapes`` cuts it (``gankit.tasks.table_condition_metrics``); each model is asked
for the middle training value of each quarter, and its rows are scored against the held-out rows
in that quarter (the column left out: the held-out rows' values spread over the quarter, the
generated rows hold the one asked for); the ceiling is the training rows in the quarter. Run in
the benchmark venv that has SDV (``make bench-peers`` makes it):

    PYTHONPATH=src bench-out/sdv-venv/bin/python benchmarks/conditional_tables.py --seeds 3 \\
        --out bench-out/conditional_tables
    PYTHONPATH=src bench-out/sdv-venv/bin/python benchmarks/conditional_tables.py --seeds 1 \\
        --tables diabetes-age,mixed-age --out bench-out/conditional_numbers
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import table_sets  # noqa: E402
from tables import sdtypes  # noqa: E402

TABLES = {"iris": (table_sets.iris, "species"), "diabetes": (table_sets.diabetes, "sex"),
          "diabetes-age": (table_sets.diabetes, "age"), "mixed-age": (table_sets.mixed, "age")}


def quality(real: pd.DataFrame, fake: pd.DataFrame, metadata: dict) -> float:
    from sdmetrics.reports.single_table import QualityReport

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = QualityReport()
        report.generate(real, fake, metadata, verbose=False)
        return float(report.get_score())


def gankit_rows(path: Path, column: str, values: list, seed: int, n: int, folder: Path) -> tuple[dict, float]:
    import gankit

    run_dir = folder / f"gankit-{path.stem}-{seed}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gankit", "train", "--data", str(path), "--condition-on", column,
                    "--seed", str(seed), "--out", str(run_dir), "--overwrite", "--no-figures"],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - started
    run = gankit.Run.load(run_dir)
    return {v: run.sample(n, seed=seed, condition={column: v}) for v in values}, seconds


def ctgan_rows(train: pd.DataFrame, column: str, values: list, seed: int, n: int,
               number: bool = False) -> tuple[dict, float]:
    import torch
    from sdv.metadata import Metadata
    from sdv.sampling import Condition
    from sdv.single_table import CTGANSynthesizer

    torch.set_num_threads(1)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        metadata = Metadata.detect_from_dataframes({"t": train})
        metadata.update_column(column, table_name="t", sdtype="numerical" if number else "categorical")
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        model = CTGANSynthesizer(metadata, enable_gpu=False)
        started = time.perf_counter()
        model.fit({"t": train})
        seconds = time.perf_counter() - started
        model._set_random_state(seed)
        rows = {}
        for v in values:
            try:
                out = model.sample_from_conditions([Condition({column: v}, num_rows=n)])
            except ValueError:  # SDV: no row could be generated with the value in its tries
                out = train.iloc[:0]
            rows[v] = out["t"] if isinstance(out, dict) else out
    return rows, seconds


def groups(train: pd.DataFrame, held: pd.DataFrame, column: str, number: bool) -> list[tuple]:
    """(value asked for, the training rows and the held-out rows it is scored on) per value: a
    category's own rows; a number column's quarters (edges at the training values' quartiles,
    as gankit.tasks.table_condition_metrics.ConditionGroups), each asked at its middle training
    value (a training value: whole if they are)."""
    if not number:
        return [(v, train[train[column] == v], held[held[column] == v])
                for v in sorted(held[column].unique().tolist())]
    values = train[column].to_numpy(dtype=float)
    edges = np.unique(np.quantile(values[~np.isnan(values)], [0.25, 0.5, 0.75]))
    bins = [np.searchsorted(edges, f[column].to_numpy(dtype=float), side="right") for f in (train, held)]
    whole = pd.api.types.is_integer_dtype(train[column].dtype)
    out = []
    for k in range(len(edges) + 1):
        middle = float(np.quantile(values[(bins[0] == k) & ~np.isnan(values)], 0.5, method="lower"))
        out.append((int(middle) if whole else middle, train[bins[0] == k], held[bins[1] == k]))
    return out


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def mean_of(rows: list[dict], model: str, value: object, key: str) -> float:
    return float(np.mean([r[key] for r in rows if r["model"] == model and r["value"] == value]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1")
    parser.add_argument("--per-value", type=int, default=200, help="rows asked for per value")
    parser.add_argument("--tables", default="iris,diabetes")
    parser.add_argument("--out", default="bench-out/conditional_tables")
    args = parser.parse_args()
    from gankit.tasks import make_task

    folder = Path(args.out).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.tables.split(","):
        build, column = TABLES[name]
        path = table_sets.write(build(), folder / f"{name}.csv")
        task = make_task("table", {"path": str(path)})
        train, held = task.train_frame, task.holdout_frame
        number = not next(c for c in task.codec.columns if c.name == column).categorical
        metadata = sdtypes(task)
        metadata["columns"].pop(column)
        cases = groups(train, held, column, number)
        values = [v for v, _, _ in cases]
        near = {v: held_v.drop(columns=column) for v, _, held_v in cases}
        ceiling = {v: quality(near[v], train_v.drop(columns=column), metadata) for v, train_v, _ in cases}
        rows = []
        for seed in range(args.seeds):
            for model in ("gankit", "CTGAN"):
                before = load()
                if model == "gankit":
                    made, seconds = gankit_rows(path, column, values, seed, args.per_value, folder)
                else:
                    made, seconds = ctgan_rows(train, column, values, seed, args.per_value, number)
                for v in values:
                    fake = made[v]
                    made_any = len(fake) > 0  # CTGAN may find no row with the value
                    real = near[v]
                    scored = quality(real, fake.drop(columns=column), metadata) if made_any else float("nan")
                    rows.append({"seed": seed, "model": model, "value": v, "train_s": seconds,
                                 "rows": len(fake), "quality": scored,
                                 "met": float(np.mean(fake[column] == v)) if made_any else 0.0})
                mine = [r for r in rows if r["seed"] == seed and r["model"] == model]
                print(f"{name} seed {seed} {model}: {seconds:.0f} s ({before} before, {load()} after); "
                      + ", ".join(f"{column}={r['value']}: quality {r['quality']:.3f}, met {r['met']:.2f}"
                                  for r in mine))
        results[name] = {"column": column, "ceiling": ceiling, "rows": rows}
        scored = "near the value (its quarter)" if number else "with the value"
        print(f"\n### {name}, conditioned on {column}: SDMetrics quality against the held-out rows "
              f"{scored} (mean over {args.seeds} seeds)")
        print("| value | held-out rows | ceiling | gankit | CTGAN | gankit rows meeting it | CTGAN's |")
        print("|---|---|---|---|---|---|---|")
        for v in values:
            cells = [mean_of(rows, m, v, key) for key in ("quality", "met") for m in ("gankit", "CTGAN")]
            print(f"| {v} | {len(near[v])} | {ceiling[v]:.3f} | {cells[0]:.3f} | "
                  f"{cells[1]:.3f} | {cells[2]:.2f} | {cells[3]:.2f} |")
    (folder / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nraw numbers: {folder / 'results.json'}")


if __name__ == "__main__":
    main()
