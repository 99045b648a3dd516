"""The table preset's length on tables of three sizes: wall time and held-out quality per table.

Each run is a whole ``gankit train --data FILE.csv`` process (imports, reading the table, the
final evaluation and every write included; figures off, as they are drawn in a background
process after the command returns), timed from outside, on scikit-learn's iris (150 rows) and
diabetes (442 rows) and a made-up mixed table of 3,000 rows (numbers, a skewed column with
missing values, a bimodal one, counts, categories with a rare one, booleans, ratings). For each
it prints the steps the preset chose from the rows, where the held-out phase ended and its best
step, the held-out quality_score with its floor (what held-out real rows score), the steps of
the all-rows phase, the process's wall and CPU seconds (user + system, both threads: on a busy
machine the CPU time is the better guide to a quiet one's wall time, on a quiet one the wall
time is lower, the evaluations running on the second core) and the seconds inside steps.

``--external`` also asks whether the all-rows phase helps: 20% of each table is set aside
before gankit sees it, each seed is trained with ``train.all_rows`` on and off, and 2,000 rows
of each model are scored against those rows, which neither run saw (gankit's table metrics,
with the run's codec; the floor is then what gankit's own held-out rows score).

    python benchmarks/table_length.py --seeds 3 --out runs/bench_table_length [--external]
    python benchmarks/table_length.py --set train.patience=0   # any --set, for every run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def tables(folder: Path) -> dict[str, Path]:
    from sklearn.datasets import load_diabetes, load_iris

    sys.path.insert(0, str(HERE))
    from table_choices import mixed_table

    folder.mkdir(parents=True, exist_ok=True)
    out = {name: folder / f"{name}.csv" for name in ("iris", "diabetes", "mixed")}
    load_iris(as_frame=True).frame.rename(columns={"target": "species"}).to_csv(out["iris"], index=False)
    load_diabetes(as_frame=True, scaled=False).frame.to_csv(out["diabetes"], index=False)
    mixed_table(out["mixed"], 3000)
    return out


def train(data: Path, out: Path, seed: int, sets: list[str]) -> dict:
    """One whole ``gankit train`` process: its wall time and what the run folder says."""
    command = [sys.executable, "-m", "gankit", "train", "--data", str(data), "--seed", str(seed),
               "--quiet", "--no-figures", "--overwrite", "--out", str(out)]
    for item in sets:
        command += ["--set", item]
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    summary = json.loads((out / "summary.json").read_text())
    info = json.loads((out / "run.json").read_text())
    held = summary.get("held_out_phase", {})
    metrics = held.get("metrics") or summary
    config = tomllib.loads((out / "config.toml").read_text())
    return {"seconds": seconds, "cpu": cpu, "step_seconds": info.get("step_seconds"),
            "steps": config["train"]["steps"],
            "held_out_end": held.get("step", summary["step"]),
            "best_step": held.get("best_step", summary.get("best_step")),
            "stopped_early": held.get("stopped_early", summary.get("stopped_early")),
            "all_rows_steps": summary.get("all_rows_phase", {}).get("steps", 0),
            "quality": metrics["quality_score"], "floor": metrics["quality_score_floor"]}


def external_quality(run_dir: Path, outside: pd.DataFrame) -> tuple[float, float]:
    """quality_score of 2,000 rows of a run's model against rows it never saw, and its floor."""
    import gankit
    from gankit.tasks.table_data import TableData
    from gankit.tasks.table_metrics import table_metrics

    run = gankit.Run.load(run_dir)
    codec = run.task.codec
    data = TableData(codec, run.task.data.train_rows, codec.encode(outside), "")
    fake = run.task.encode(run.sample(2000, seed=0)).numpy()
    metrics = table_metrics(data, fake)
    return metrics["quality_score"], metrics["quality_score_floor"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/bench_table_length")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], dest="sets")
    parser.add_argument("--external", action="store_true")
    parser.add_argument("--only", nargs="*", default=None, help="table names (iris diabetes mixed)")
    args = parser.parse_args()
    out = Path(args.out)
    files = tables(out / "data")
    print(f"load average at start: {os.getloadavg()}", flush=True)
    print("table     rows  seed  steps  held-out end  best  early  all-rows  quality  floor   wall s  "
          "cpu s  in steps s")
    for name, path in files.items():
        if args.only and name not in args.only:
            continue
        rows = len(pd.read_csv(path))
        outside = None
        if args.external:
            frame = pd.read_csv(path)
            order = np.random.default_rng(12345).permutation(len(frame))
            cut = len(frame) // 5
            outside = frame.iloc[order[:cut]].reset_index(drop=True)
            path = out / "data" / f"{name}_inside.csv"
            frame.iloc[order[cut:]].to_csv(path, index=False)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            variants = [("", [])] if outside is None else [("on", []), ("off", ["train.all_rows=false"])]
            for label, extra in variants:
                run_dir = out / f"{name}-{seed}{'-' + label if label else ''}"
                r = train(path, run_dir, seed, args.sets + extra)
                line = (f"{name:8s} {rows:5d}  {seed:4d}  {r['steps']:5d}  {r['held_out_end']:12d}  "
                        f"{r['best_step'] or 0:4d}  {str(r['stopped_early']):5s}  {r['all_rows_steps']:8d}  "
                        f"{r['quality']:.4f}  {r['floor']:.4f}  {r['seconds']:6.1f}  {r['cpu']:5.1f}  "
                        f"{r['step_seconds']:5.1f}")
                if outside is not None:
                    quality, floor = external_quality(run_dir, outside)
                    line += f"  all_rows {label}: external quality {quality:.4f} (floor {floor:.4f})"
                print(line, flush=True)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
