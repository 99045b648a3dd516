"""A large table: a generated 200,000-row, 40-column CSV of mixed types trains 1,000 steps, and
``gankit sample --n 1000000`` writes its rows in chunks; each phase's peak memory (max RSS of its
own process, from ``wait4``) and wall-clock time are printed.

    python benchmarks/tables_scale.py --out runs/bench_tables_scale
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_table(path: Path, rows: int, seed: int = 0) -> None:
    """10 correlated normals, 10 skewed, 8 integers, 8 categories (one with missing values),
    2 booleans, 2 numbers with 5% missing values: 40 columns."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(rows, 1))
    data = {f"n{i}": (0.7 * base[:, 0] + 0.7 * rng.normal(size=rows)).round(4) for i in range(10)}
    data |= {f"s{i}": rng.lognormal(0, 1, rows).round(4) for i in range(10)}
    data |= {f"i{i}": rng.poisson(20 + 10 * i, rows) for i in range(8)}
    letters = np.array(list("abcdefghijklmnop"))
    data |= {f"c{i}": letters[rng.integers(0, 4 + i, rows)] for i in range(8)}
    data |= {f"b{i}": rng.random(rows) < 0.2 + 0.3 * i for i in range(2)}
    data |= {f"m{i}": np.where(rng.random(rows) < 0.05, np.nan, rng.normal(size=rows).round(4))
             for i in range(2)}
    frame = pd.DataFrame(data)
    frame.loc[rng.random(rows) < 0.03, "c0"] = None
    frame.to_csv(path, index=False)


def measured(command: list[str]) -> tuple[float, float]:
    """Wall-clock seconds and peak RSS (MiB) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=1_000_000)
    parser.add_argument("--out", default="runs/bench_tables_scale")
    args = parser.parse_args()
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    table = folder / "large.csv"
    make_table(table, args.rows)
    gankit = [sys.executable, "-m", "gankit"]
    train_s, train_mib = measured([*gankit, "train", "--data", str(table), "--steps", str(args.steps),
                                   "--out", str(folder / "run"), "--overwrite", "--quiet", "--no-figures"])
    sample_s, sample_mib = measured([*gankit, "sample", str(folder / "run"), "--n", str(args.sample),
                                     "--seed", "0", "--out", str(folder / "rows.csv")])
    size = table.stat().st_size / 2**20
    print(f"table: {args.rows:,} rows x 40 columns, {size:.0f} MiB")
    print(f"train {args.steps} steps: {train_s:.1f} s, peak RSS {train_mib:.0f} MiB")
    print(f"sample {args.sample:,} rows: {sample_s:.1f} s, peak RSS {sample_mib:.0f} MiB, "
          f"{(folder / 'rows.csv').stat().st_size / 2**20:.0f} MiB written")


if __name__ == "__main__":
    main()
