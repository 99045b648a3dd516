"""What a table run keeps so that it is the model: the size of ``data.json`` + ``data.npz`` in the
run folder and of the exported model file, beside the source CSV, with the time a short
``gankit.train`` took to write them and ``gankit.Run.load`` to read them back.

    python benchmarks/run_folder_size.py [--rows 20000 100000]

Iris (bundled with scikit-learn) and made-up tables of 10 columns (6 numbers, one 10% missing;
3 categories; a boolean) of the given row counts; each trained for 2 steps (the sizes do not
depend on training).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_iris

import gankit
from gankit.tasks.saved import ARRAYS_FILE, STATE_FILE


def mixed(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(i, 1 + i, rows).round(3) for i in range(6)})
    frame.loc[rng.random(rows) < 0.1, "x0"] = np.nan
    for i, k in enumerate((3, 5, 8)):
        frame[f"c{i}"] = rng.choice([f"v{j}" for j in range(k)], rows)
    frame["flag"] = rng.random(rows) < 0.3
    return frame


def measure(name: str, frame: pd.DataFrame, root: Path) -> None:
    csv = root / f"{name}.csv"
    frame.to_csv(csv, index=False)
    start = time.perf_counter()
    run = gankit.train(data=str(csv), steps=2, out=root / name, figures=False, progress=False,
                       set={"log.eval_every": 2, "log.eval_samples": 256})
    trained = time.perf_counter() - start
    start = time.perf_counter()
    gankit.Run.load(run.path)
    loaded = time.perf_counter() - start
    model = root / f"{name}.pt"
    from gankit.api.artifact import export

    export(run, model)
    kb = {p: (run.path / p).stat().st_size / 1e3 for p in (STATE_FILE, ARRAYS_FILE)}
    print(f"| {name} | {len(frame):,} x {frame.shape[1]} | {csv.stat().st_size / 1e3:,.0f} KB | "
          f"{kb[STATE_FILE]:.1f} KB + {kb[ARRAYS_FILE]:,.0f} KB | {model.stat().st_size / 1e6:.2f} MB | "
          f"{trained:.1f} s | {loaded:.2f} s |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[20_000, 100_000])
    args = parser.parse_args()
    print("| table | rows x columns | CSV | data.json + data.npz | exported file | train 2 steps "
          "| Run.load |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        measure("iris", load_iris(as_frame=True).frame, root)
        for rows in args.rows:
            measure(f"mixed{rows}", mixed(rows), root)


if __name__ == "__main__":
    main()
