"""gankit against SDV's GaussianCopula, CTGAN and TVAE on iris, diabetes and a mixed table, every
model's rows scored by SDMetrics against the same held-out rows, with wall times and the
real-vs-real ceiling (docs/BENCHMARKS.md, issue 26 item 7).

SDV and SDMetrics are not dependencies of gankit: run this in a venv made for the benchmark,
with gankit installed in it (torch pinned to the CPU build on this disk by constraints.txt):

    python3 -m venv bench-out/sdv-venv
    bench-out/sdv-venv/bin/pip install -c constraints.txt sdv==2.0.0 -e .
    # sdv 2.0.0 brings sdmetrics 0.32.0, ctgan 0.12.1, copulas 0.14.1, rdt 2.0.0, pandas 2.3.3
    bench-out/sdv-venv/bin/python benchmarks/tables.py --seeds 3 --out bench-out/tables

Without sdv the peers are skipped (gankit is still measured; without sdmetrics, scored by
gankit's own metrics only).

Tables (benchmarks/table_sets.py): scikit-learn's iris (150 rows) and diabetes (442, unscaled),
and ``mixed``: 3,000 made-up rows with an integer column, skewed numbers (one 4% missing),
categories with rare values (1.5-2.5%) and 3% missing, an ISO date column and a count. Each is
written to a CSV file, and gankit's own split of it is the split of every model: the training
rows (``task.train_index``, 80%) are what every model learns from, the held-out rows
(``task.holdout_index``, 20%: 30, 88 and 600 rows) what every model is scored against.

Models, each once per seed (0, 1, ... ``--seeds`` - 1):

- ``gankit``: the whole ``gankit train --data FILE.csv --seed S --out DIR`` process, defaults as
  a user runs it (its ``table`` preset; one torch thread is gankit's default), timed from start
  to exit, imports included (figures are drawn by a background process after it exits: the
  script waits for that process before timing anything else, and does not count it); then
  ``gankit sample DIR --n ROWS --seed S --out FILE.csv``, timed apart. ``--set KEY=VALUE``
  passes settings through.
- ``GaussianCopula``, ``CTGAN``, ``TVAE``: SDV's synthesizers with SDV's defaults (CTGAN and
  TVAE: 300 epochs, batch 500) on the training rows as gankit read them, metadata detected from
  that frame (``Metadata.detect_from_dataframes``), the date column given ``sdtype='datetime'``
  with its format; torch on one thread; ``fit`` timed in this process (SDV imported before).

Every model generates ``--rows`` rows (2,000: all of them enter gankit's metrics, which take at
most 2,000 of each sample), written to CSV and read back with gankit's reader, as a user would.

Scores against the held-out rows, metadata from gankit's column kinds (numbers and integers:
numerical; categories, constants: categorical; booleans: boolean; dates: datetime with the
file's format):

- ``quality``, ``shapes``, ``pairs``: SDMetrics' single-table QualityReport (overall, Column
  Shapes, Column Pair Trends);
- ``logistic``, ``svc``: SDMetrics' LogisticDetection and SVCDetection, as SDMetrics reports
  them: 1 - (2 max(AUC, 0.5) - 1), 1 when the classifier cannot tell the rows apart (3-fold,
  all generated rows against all held-out rows; the AUC is 1 - score / 2 when above 0.5;
  SDMetrics draws its folds from numpy's global random state, seeded 0 before each call here so
  that a rerun gives the same numbers: the folds' noise stays, it is only repeatable);
- ``gk quality``: gankit's own ``quality_score`` of the same rows (``task.metrics`` on the
  rows encoded by the run's codec; it clips numbers to the training range and rounds them as
  gankit's own output is, which only peers' rows can feel).

The ceiling (``real rows``): the same scores with the training rows standing in for the
generated ones, i.e. SDMetrics' report of the held-out rows against the training rows, which
is gankit's ``quality_score_floor``. It is a noisy ceiling on a small table (iris: 30 held-out
rows against 120 training rows), and a generator's 2,000 rows carry less sampling noise than
the 120, so a model can score above it.

``GaussianCopula (process …)``: a whole Python process that reads the training rows' CSV,
imports SDV, fits GaussianCopula, samples and writes the rows, timed as gankit's process is.
The two ratios: gankit's training process time over GaussianCopula's fit time, and over that
whole GaussianCopula process, each per seed (mean ± spread). Everything is
written to ``--out``/results.json, raw numbers per seed.
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
from gankit.tasks import make_task  # noqa: E402
from gankit.tasks.table_io import read_table  # noqa: E402

PEERS = ("GaussianCopula", "CTGAN", "TVAE")
SCORES = ("quality", "shapes", "pairs", "logistic", "svc", "gk_quality")


def sdtypes(task) -> dict[str, dict[str, str]]:
    """SDMetrics metadata of the table's columns, from gankit's kinds."""
    columns = {}
    for c in task.codec.columns:
        if c.kind == "datetime":
            columns[c.name] = {"sdtype": "datetime", "datetime_format": c.form or table_sets.DATE_FORMAT}
        elif c.kind == "boolean":
            columns[c.name] = {"sdtype": "boolean"}
        elif c.kind == "id":
            columns[c.name] = {"sdtype": "id"}
        elif c.categorical or c.kind == "constant":
            columns[c.name] = {"sdtype": "categorical"}
        else:
            columns[c.name] = {"sdtype": "numerical"}
    return {"columns": columns}


def sdmetrics_scores(real: pd.DataFrame, fake: pd.DataFrame, metadata: dict) -> dict[str, float]:
    try:
        from sdmetrics.single_table import LogisticDetection, SVCDetection
    except ImportError:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(real, fake, metadata, verbose=False)
        properties = report.get_properties().set_index("Property")["Score"]
        values = {"quality": float(report.get_score()), "shapes": float(properties["Column Shapes"]),
                  "pairs": float(properties["Column Pair Trends"])}
        for key, metric in (("logistic", LogisticDetection), ("svc", SVCDetection)):
            np.random.seed(0)  # SDMetrics draws its folds (and SVC its Platt folds) from numpy's global RNG
            values[key] = float(metric.compute(real, fake, metadata))
        return values


def score(task, fake: pd.DataFrame, metadata: dict) -> dict[str, float]:
    columns = list(task.train_frame.columns)
    ours = task.metrics(task.encode(fake[columns]).numpy())
    values = sdmetrics_scores(task.holdout_frame[columns], fake[columns], metadata)
    return {**values, "gk_quality": float(ours["quality_score"]),
            "gk_detection_auc": float(ours["detection_auc"])}


def read_back(frame_or_path, folder: Path, name: str) -> pd.DataFrame:
    """Generated rows as a user reads them: written to CSV (peers), read with gankit's reader."""
    path = Path(frame_or_path) if isinstance(frame_or_path, (str, Path)) else folder / f"{name}.csv"
    if not isinstance(frame_or_path, (str, Path)):
        frame_or_path.to_csv(path, index=False)
    return read_table(path)[0]


def wait_for_plot(run: Path, limit: float = 180.0) -> None:
    """Wait while a ``gankit plot RUN`` process (the run's figures, drawn after it exits) lives."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        busy = False
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"plot" in args and str(run).encode() in args:
                busy = True
                break
        if not busy:
            return
        time.sleep(0.5)


def run_gankit(path: Path, seed: int, rows: int, folder: Path, settings: list[str]) -> dict:
    run = folder / f"gankit-{seed}"
    cmd = [sys.executable, "-m", "gankit"]
    extra = [part for s in settings for part in ("--set", s)]
    started = time.perf_counter()
    done = subprocess.run([*cmd, "train", "--data", str(path), "--seed", str(seed), "--out", str(run),
                           "--overwrite", *extra], capture_output=True, text=True)
    fit = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"gankit train failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    wait_for_plot(run)
    out = folder / f"gankit-{seed}.csv"
    started = time.perf_counter()
    done = subprocess.run([*cmd, "sample", str(run), "--n", str(rows), "--seed", str(seed),
                           "--out", str(out)], capture_output=True, text=True)
    sample = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"gankit sample failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    summary = json.loads((run / "summary.json").read_text())
    return {"rows": read_back(out, folder, ""), "fit_s": fit, "sample_s": sample,
            "steps": summary.get("step")}


def run_peer(kind: str, task, seed: int, rows: int) -> dict:
    import torch
    from sdv.metadata import Metadata
    from sdv.single_table import CTGANSynthesizer, GaussianCopulaSynthesizer, TVAESynthesizer

    train = task.train_frame.copy()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        metadata = Metadata.detect_from_dataframes({"t": train})
        for c in task.codec.columns:
            if c.kind == "datetime":
                metadata.update_column(c.name, table_name="t", sdtype="datetime",
                                       datetime_format=c.form or table_sets.DATE_FORMAT)
        make = {"GaussianCopula": GaussianCopulaSynthesizer, "CTGAN": CTGANSynthesizer,
                "TVAE": TVAESynthesizer}[kind]
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        model = make(metadata) if kind == "GaussianCopula" else make(metadata, enable_gpu=False)
        started = time.perf_counter()
        model.fit({"t": train})  # sdv 2: a table's name and its frame
        fit = time.perf_counter() - started
        model._set_random_state(seed)  # SDV samples from a fixed seed otherwise: every seed alike
        started = time.perf_counter()
        generated = model.sample(rows)
        if isinstance(generated, dict):
            generated = generated["t"]
        sample = time.perf_counter() - started
    detected = {name: spec["sdtype"] for name, spec in metadata.tables["t"].columns.items()}
    return {"rows": generated, "fit_s": fit, "sample_s": sample, "sdtypes": detected}


GC_PROCESS = """
import sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
from sdv.metadata import Metadata
from sdv.single_table import GaussianCopulaSynthesizer
train = pd.read_csv(sys.argv[1])
metadata = Metadata.detect_from_dataframes({"t": train})
for name in sys.argv[4:]:
    metadata.update_column(name, table_name="t", sdtype="datetime", datetime_format="%Y-%m-%d")
model = GaussianCopulaSynthesizer(metadata)
model.fit({"t": train})
model.sample(int(sys.argv[3]))["t"].to_csv(sys.argv[2], index=False)
"""


def gc_process(task, seed: int, rows: int, folder: Path) -> float:
    """Seconds of a whole Python process that reads the training rows' CSV, imports SDV, fits
    GaussianCopula with its defaults, samples ``rows`` rows and writes them: what gankit's
    process time compares with on equal terms (imports and reading included)."""
    train = folder / "train_rows.csv"
    if not train.exists():
        task.train_frame.to_csv(train, index=False)
    dates = [c.name for c in task.codec.columns if c.kind == "datetime"]
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", GC_PROCESS, str(train), str(folder / f"gc-process-{seed}.csv"),
                    str(rows), *dates], check=True, capture_output=True, text=True)
    return time.perf_counter() - started


def fmt(values: list[float], digits: int = 3) -> str:
    values = [v for v in values if v is not None and not np.isnan(v)]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values):.{digits}f}"


def show(name: str, results: dict, seeds: list[int]) -> None:
    print(f"\n### {name}: {results['rows_train']} training rows, {results['rows_holdout']} held out; "
          f"mean ± standard deviation over seeds {seeds}")
    print("| model | quality | shapes | pairs | logistic det. | SVC det. | gankit quality_score | "
          "fit s | sample s | gankit fit / GC fit | gankit fit / GC process |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    ceiling = results["ceiling"]
    print("| real rows (ceiling) | " + " | ".join(fmt([ceiling.get(k, float("nan"))]) for k in SCORES)
          + " | - | - | - | - |")
    gc = results["models"].get("GaussianCopula")
    for model, runs in results["models"].items():
        cells = [fmt([r.get(k, float("nan")) for r in runs]) for k in SCORES]
        ratio = whole = "-"
        if model == "gankit" and gc:
            ratio = fmt([g["fit_s"] / c["fit_s"] for g, c in zip(runs, gc)], 1)
            whole = fmt([g["fit_s"] / c["process_s"] for g, c in zip(runs, gc)], 1)
        fit = fmt([r["fit_s"] for r in runs], 1)
        if model == "GaussianCopula":
            fit += f" (process {fmt([r['process_s'] for r in runs], 1)})"
        print(f"| {model} | " + " | ".join(cells) + f" | {fit} | {fmt([r['sample_s'] for r in runs], 1)} | "
              f"{ratio} | {whole} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0 .. N-1 of every model (default 3)")
    parser.add_argument("--rows", type=int, default=2000, help="generated rows per model and seed")
    parser.add_argument("--tables", default="iris,diabetes,mixed",
                        help="comma-separated: iris, diabetes, mixed")
    parser.add_argument("--models", default="gankit," + ",".join(PEERS), help="comma-separated")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a gankit setting for every run (repeatable)")
    parser.add_argument("--out", default="bench-out/tables")
    args = parser.parse_args()
    folder = Path(args.out).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    models = args.models.split(",")
    try:
        import sdv  # noqa: F401
        import torch

        torch.set_num_threads(1)
    except ImportError:
        print("sdv is not installed here: the peers are skipped (see the docstring for its venv)")
        models = [m for m in models if m not in PEERS]
    seeds = list(range(args.seeds))
    everything = {"seeds": seeds, "rows": args.rows, "set": args.set, "tables": {}}
    for name in args.tables.split(","):
        path = table_sets.write(table_sets.BUILDERS[name](), folder / name / f"{name}.csv")
        with contextlib.redirect_stderr(io.StringIO()):
            task = make_task("table", {"path": str(path)})
        metadata = sdtypes(task)
        ceiling = score(task, task.train_frame, metadata)
        results = {"rows_train": len(task.train_index), "rows_holdout": len(task.holdout_index),
                   "metadata": metadata, "ceiling": ceiling, "models": {}}
        everything["tables"][name] = results
        for model in models:
            for seed in seeds:
                if model == "gankit":
                    got = run_gankit(path, seed, args.rows, folder / name, args.set)
                else:
                    got = run_peer(model, task, seed, args.rows)
                    got["rows"] = read_back(got["rows"], folder / name, f"{model}-{seed}")
                    if model == "GaussianCopula":
                        got["process_s"] = gc_process(task, seed, args.rows, folder / name)
                values = score(task, got.pop("rows"), metadata)
                row = {"seed": seed, **values, **got}
                results["models"].setdefault(model, []).append(row)
                print(f"{name} {model} seed {seed}: " + ", ".join(
                    f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
                    if k != "sdtypes"), flush=True)
                (folder / "results.json").write_text(json.dumps(everything, indent=1, default=str))
    for name, results in everything["tables"].items():
        show(name, results, seeds)
    print(f"\nraw numbers: {folder / 'results.json'}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
