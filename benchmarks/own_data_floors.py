"""Own-data floors on a small table sorted by a category, as shipped and shuffled.

The case of issue 24: 344 rows of animal measurements (three species, their islands, four
measurements, sex with missing values, the year), sorted by species as such files often are.
The table is simulated here (a penguin-like law, seeded), so the script needs no download; a
"perfect generator" is simulated too: fresh rows from the same law, which no split has seen.

For each split seed it builds the table task on the sorted file and on a shuffled copy (same
rows, another order) and prints, as means over the split seeds:

- the table metrics' floors (``dcr_share_floor`` should be about 0.5 whatever the file order)
  and the perfect generator's ``detection_auc`` (about 0.5) with its spread over folds;
- the general metrics (precision/recall, density/coverage, MMD, sliced W1) of the perfect
  generator against their floors, computed as ``gankit eval`` does (the evaluator's real and
  reference draws are passed too, so the script runs on older trees, which used them).

    python benchmarks/own_data_floors.py              # 8 split seeds
    python benchmarks/own_data_floors.py --seeds 3 --rows 344
    PYTHONPATH=/tmp/base/src python benchmarks/own_data_floors.py   # an older source tree
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from gankit.tasks import make_task

# species: (share, islands with their shares, bill length, bill depth, flipper, body mass): means, sds
SPECIES = {
    "Adelie": (0.44, {"Biscoe": 0.29, "Dream": 0.37, "Torgersen": 0.34},
               (38.8, 2.7), (18.3, 1.2), (190.0, 6.5), (3700.0, 460.0)),
    "Chinstrap": (0.20, {"Dream": 1.0}, (48.8, 3.3), (18.4, 1.1), (196.0, 7.1), (3733.0, 384.0)),
    "Gentoo": (0.36, {"Biscoe": 1.0}, (47.5, 3.1), (15.0, 1.0), (217.0, 6.5), (5076.0, 504.0)),
}
GENERAL = ("precision", "recall", "density", "coverage", "mmd_rbf", "sliced_w1")


def animals(n: int, seed: int) -> pd.DataFrame:
    """``n`` rows of the penguin-like law, sorted by species; a few values missing."""
    rng = np.random.default_rng(seed)
    names = list(SPECIES)
    species = rng.choice(names, n, p=[SPECIES[s][0] for s in names])
    rows = []
    for kind in species:
        _, islands, bill, depth, flipper, mass = SPECIES[kind]
        male = rng.random() < 0.5
        size = rng.normal(0.6 if male else -0.6, 0.8)  # one body size behind every measurement
        island = rng.choice(list(islands), p=list(islands.values()))
        rows.append({
            "species": kind, "island": island,
            "bill_length_mm": round(bill[0] + bill[1] * (0.7 * size + 0.7 * rng.normal()), 1),
            "bill_depth_mm": round(depth[0] + depth[1] * (0.7 * size + 0.7 * rng.normal()), 1),
            "flipper_length_mm": int(round(flipper[0] + flipper[1] * (0.7 * size + 0.7 * rng.normal()))),
            "body_mass_g": int(round(mass[0] + mass[1] * (0.8 * size + 0.6 * rng.normal()), -1)),
            "sex": "male" if male else "female",
            "year": int(rng.choice([2007, 2008, 2009])),
        })
    frame = pd.DataFrame(rows)
    frame.loc[rng.random(n) < 0.03, "sex"] = np.nan
    gone = rng.random(n) < 0.006  # a row or two without any measurement
    frame.loc[gone, ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]] = np.nan
    frame["flipper_length_mm"] = frame["flipper_length_mm"].astype("Int64")
    frame["body_mass_g"] = frame["body_mass_g"].astype("Int64")
    return frame.sort_values("species", kind="stable").reset_index(drop=True)


def measure(path: Path, split_seed: int, fresh: pd.DataFrame) -> dict[str, float]:
    """The table metrics and the general metrics of ``fresh`` rows (a perfect generator)."""
    with contextlib.redirect_stderr(io.StringIO()):  # the table's description, once per split
        task = make_task("table", {"path": str(path), "split_seed": split_seed})
    fake = task.codec.encode(fresh)
    values = dict(task.metrics(fake))
    m = min(len(fake), 2500)  # as the evaluator does: its own draws, then the task's general metrics
    real = task.sample(m, torch.Generator().manual_seed(3)).numpy()
    reference = task.sample(m, torch.Generator().manual_seed(5)).numpy()
    values.update(task.general_metrics(real, fake[:m], reference))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=8, help="split seeds (default 8)")
    parser.add_argument("--rows", type=int, default=344, help="rows of the table (default 344)")
    parser.add_argument("--fresh", type=int, default=2000, help="rows of the perfect generator")
    args = parser.parse_args()
    started = time.perf_counter()
    table = animals(args.rows, seed=24)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"sorted": Path(tmp) / "animals.csv", "shuffled": Path(tmp) / "animals_shuffled.csv"}
        table.to_csv(paths["sorted"], index=False)
        table.sample(frac=1.0, random_state=1).to_csv(paths["shuffled"], index=False)
        results = {name: [measure(path, seed, animals(args.fresh, seed=1000 + seed))
                          for seed in range(args.seeds)] for name, path in paths.items()}
    print(f"{args.rows} rows sorted by species, and a shuffled copy; means over {args.seeds} split seeds "
          f"(spread: the standard deviation over seeds); 'perfect': {args.fresh} fresh rows of the law")

    def show(key: str) -> str:
        cells = []
        for name in paths:
            found = [r[key] for r in results[name] if key in r]
            cells.append(f"{np.mean(found):8.3f} ± {np.std(found):5.3f}" if found else f"{'-':>16}")
        return f"  {key:<24}" + "  ".join(cells)

    print(f"  {'':<24}{'sorted':>16}  {'shuffled':>16}")
    for key in ("dcr_share_floor", "dcr_share", "detection_auc_floor", "detection_auc", "detection_auc_std",
                "detection_score", "detection_score_floor", "quality_score_floor", "quality_score"):
        print(show(key))
    print("  general metrics of the perfect generator, each beside its floor:")
    for key in GENERAL:
        print(show(key))
        print(show(f"{key}_floor"))
    if "general_rows" in results["sorted"][0]:
        print(show("general_rows"))
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
