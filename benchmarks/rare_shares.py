"""Rare categories and missing shares: does gankit generate every category of at least 1% of the
training rows, and every column's missing values, at its training share within a factor 1.5?

The table (benchmarks/table_sets.py, ``rare``): 4,000 seeded rows; ``colour`` with three common
values and rare ones of 3.2%, 3.2%, 2%, 2% and 1.3%, ``size`` (two rare values of 2.5% and 2%,
3% missing), ``shop`` (a 1.5% value), ``weight`` (3% missing), ``price``, and ``score``, missing
in one training row alone. Written to CSV; each seed is a whole ``gankit train --data FILE.csv
--seed S --out DIR`` process with gankit's defaults (and any ``--set KEY=VALUE`` given here; ``--no-figures``,
which changes no number),
then ``gankit sample DIR --n ROWS --seed S --out FILE.csv``. Training shares are those of the
training rows of gankit's split (``task.train_frame``); generated shares those of the rows read
back with gankit's reader. A share counts every row (missing ones too). ``ratio``: generated /
training; PASS when it lies in [1 / 1.5, 1.5]. Exits 0 whatever the result; all numbers go to
``--out``/results.json.

    .venv/bin/python benchmarks/rare_shares.py --out bench-out/rare_shares
    .venv/bin/python benchmarks/rare_shares.py --seeds 0,1,2 --set train.steps=8000 --out DIR
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import table_sets  # noqa: E402
from gankit.tasks import make_task  # noqa: E402
from gankit.tasks.table_io import read_table  # noqa: E402

FACTOR = 1.5
MIN_SHARE = 0.01  # categories with at least this share of the training rows are checked


def build(folder: Path) -> tuple[Path, object]:
    """The table's CSV, with ``score`` missing in one training row of gankit's split (the split
    depends on the number of rows only, so taking one value out keeps it)."""
    frame = table_sets.rare()
    path = table_sets.write(frame, folder / "rare.csv")
    with contextlib.redirect_stderr(io.StringIO()):
        task = make_task("table", {"path": str(path)})
    table_sets.write(table_sets.one_missing(frame, int(task.train_index[0])), path)
    with contextlib.redirect_stderr(io.StringIO()):
        task = make_task("table", {"path": str(path)})
    assert int(task.train_frame["score"].isna().sum()) == 1, "the one missing score is not a training row"
    return path, task


def shares(frame: pd.DataFrame, categorical: list[str]) -> dict[str, float]:
    """``column=value`` -> share of rows, for each category; ``column=<missing>`` for every column."""
    out = {}
    for name in categorical:
        for value, share in frame[name].value_counts(normalize=False).items():
            out[f"{name}={value}"] = share / len(frame)
    for name in frame.columns:
        out[f"{name}=<missing>"] = float(frame[name].isna().mean())
    return out


def train_and_sample(path: Path, seed: int, rows: int, folder: Path,
                     settings: list[str]) -> tuple[pd.DataFrame, dict]:
    run, out = folder / f"run-{seed}", folder / f"sample-{seed}.csv"
    cmd = [sys.executable, "-m", "gankit"]
    extra = [part for s in settings for part in ("--set", s)]
    started = time.perf_counter()
    subprocess.run([*cmd, "train", "--data", str(path), "--seed", str(seed), "--out", str(run), "--overwrite",
                    "--no-figures", *extra], check=True, capture_output=True, text=True)
    fit = time.perf_counter() - started
    subprocess.run([*cmd, "sample", str(run), "--n", str(rows), "--seed", str(seed), "--out", str(out)],
                   check=True, capture_output=True, text=True)
    summary = json.loads((run / "summary.json").read_text())
    return read_table(out)[0], {"train_s": fit, "steps": summary.get("step"),
                                "quality_score": summary.get("quality_score")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated run seeds (default 0,1,2)")
    parser.add_argument("--rows", type=int, default=20_000, help="generated rows per seed")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a gankit setting for every run (repeatable)")
    parser.add_argument("--out", default="bench-out/rare_shares")
    args = parser.parse_args()
    folder = Path(args.out).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    seeds = [int(s) for s in args.seeds.split(",")]
    path, task = build(folder)
    categorical = [c.name for c in task.codec.columns if c.categorical]
    train = shares(task.train_frame, categorical)
    checked = {k: v for k, v in train.items() if (k.endswith("=<missing>") and v > 0) or v >= MIN_SHARE}
    complete = [k for k, v in train.items() if k.endswith("=<missing>") and v == 0]
    results = {"seeds": seeds, "rows": args.rows, "set": args.set, "train_rows": len(task.train_frame),
               "train": checked, "runs": {}}
    for seed in seeds:
        frame, info = train_and_sample(path, seed, args.rows, folder, args.set)
        made = shares(frame, categorical)
        results["runs"][seed] = {**info, "generated": {k: made.get(k, 0.0) for k in checked},
                                 "missing_where_none": {k: made.get(k, 0.0) for k in complete}}
        print(f"seed {seed}: trained {info['steps']} steps in {info['train_s']:.1f} s, "
              f"quality_score {info['quality_score']:.4f}", flush=True)
        (folder / "results.json").write_text(json.dumps(results, indent=1))
    print(f"\n{len(task.train_frame)} training rows; {args.rows} generated rows per seed; "
          f"PASS: generated / training within a factor {FACTOR}")
    print("| column=value | training share | " + " | ".join(f"seed {s}: generated (ratio)" for s in seeds)
          + " | passes |")
    print("|---|---|" + "---|" * len(seeds) + "---|")
    failures = 0
    for key, share in sorted(checked.items(), key=lambda kv: (kv[0].split("=")[0], -kv[1])):
        cells, passes = [], 0
        for seed in seeds:
            got = results["runs"][seed]["generated"][key]
            ratio = got / share
            ok = 1 / FACTOR <= ratio <= FACTOR
            passes += ok
            cells.append(f"{got:.4f} ({ratio:.2f} {'PASS' if ok else 'FAIL'})")
        failures += len(seeds) - passes
        note = f" ({round(share * len(task.train_frame))} row)" if share * len(task.train_frame) < 1.5 else ""
        print(f"| {key}{note} | {share:.4f} | " + " | ".join(cells) + f" | {passes}/{len(seeds)} |")
    invented = {k: max(results["runs"][s]["missing_where_none"][k] for s in seeds) for k in complete}
    print("columns without a missing training value, largest generated missing share over seeds: "
          + ", ".join(f"{k.split('=')[0]} {v:.4f}" for k, v in invented.items()))
    print(f"\n{failures} of {len(checked) * len(seeds)} shares outside a factor {FACTOR}; "
          f"raw numbers: {folder / 'results.json'}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
