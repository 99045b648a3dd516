"""Tables on request: gankit conditioned on a category column against SDV's CTGAN
``sample_from_conditions``, both scored by SDMetrics' QualityReport on the held-out rows that
have the value asked for.

For iris (``species``) and diabetes (``sex``): gankit trains with ``--condition-on COLUMN`` as a
user runs it (a whole ``gankit train`` process, the table preset), CTGAN with SDV's defaults on
the same training rows (gankit's split). For each value of the column, each model is asked for
as many rows as ``--per-value`` (200) with that value; the rows are scored against the held-out
rows with that value (SDMetrics' QualityReport: shapes and pair trends; the column itself is
constant there and left out), and the share of rows that hold the value is reported (gankit's
are made to: a hard condition; SDV's CTGAN samples by rejection). The ceiling: the training rows
with that value against the held-out rows with it. Run in the benchmark venv that has SDV
(``make bench-peers`` makes it):

    PYTHONPATH=src bench-out/sdv-venv/bin/python benchmarks/conditional_tables.py --seeds 3 \\
        --out bench-out/conditional_tables
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
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

TABLES = {"iris": (table_sets.iris, "species"), "diabetes": (table_sets.diabetes, "sex")}


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


def ctgan_rows(train: pd.DataFrame, column: str, values: list, seed: int, n: int) -> tuple[dict, float]:
    import torch
    from sdv.metadata import Metadata
    from sdv.sampling import Condition
    from sdv.single_table import CTGANSynthesizer

    torch.set_num_threads(1)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        metadata = Metadata.detect_from_dataframes({"t": train})
        metadata.update_column(column, table_name="t", sdtype="categorical")
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
            out = model.sample_from_conditions([Condition({column: v}, num_rows=n)])
            rows[v] = out["t"] if isinstance(out, dict) else out
    return rows, seconds


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
        metadata = sdtypes(task)
        metadata["columns"].pop(column)
        values = sorted(held[column].unique().tolist())
        ceiling = {v: quality(held[held[column] == v].drop(columns=column),
                              train[train[column] == v].drop(columns=column), metadata) for v in values}
        rows = []
        for seed in range(args.seeds):
            for model in ("gankit", "CTGAN"):
                if model == "gankit":
                    made, seconds = gankit_rows(path, column, values, seed, args.per_value, folder)
                else:
                    made, seconds = ctgan_rows(train, column, values, seed, args.per_value)
                for v in values:
                    fake = made[v]
                    held_v = held[held[column] == v].drop(columns=column)
                    rows.append({"seed": seed, "model": model, "value": v, "train_s": seconds,
                                 "met": float(np.mean(fake[column] == v)),
                                 "quality": quality(held_v, fake.drop(columns=column), metadata)})
                mine = [r for r in rows if r["seed"] == seed and r["model"] == model]
                print(f"{name} seed {seed} {model}: {seconds:.0f} s; " + ", ".join(
                    f"{column}={r['value']}: quality {r['quality']:.3f}, met {r['met']:.2f}" for r in mine))
        results[name] = {"column": column, "ceiling": ceiling, "rows": rows}
        print(f"\n### {name}, conditioned on {column}: SDMetrics quality against the held-out rows "
              f"with the value (mean over {args.seeds} seeds)")
        print("| value | held-out rows | ceiling | gankit | CTGAN | gankit rows meeting it | CTGAN's |")
        print("|---|---|---|---|---|---|---|")
        for v in values:
            cells = [mean_of(rows, m, v, key) for key in ("quality", "met") for m in ("gankit", "CTGAN")]
            print(f"| {v} | {int((held[column] == v).sum())} | {ceiling[v]:.3f} | {cells[0]:.3f} | "
                  f"{cells[1]:.3f} | {cells[2]:.2f} | {cells[3]:.2f} |")
    (folder / "results.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nraw numbers: {folder / 'results.json'}")


if __name__ == "__main__":
    main()
