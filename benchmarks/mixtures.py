"""Mode collapse on the 2-D ring and grid, next to the published tables.

Trains gankit's recommended settings for each task (presets `ring` and `grid`) for 10 seeds
(one population, as `gankit train --preset ring --seeds 10`), and prints the mean and standard
error over seeds of modes_covered, hq_fraction and reverse_kl on 2,500 samples, beside the rows
of PacGAN (Lin et al. 2018, Table 1) and VEEGAN (Srivastava et al. 2017, Table 1).

    python benchmarks/mixtures.py [--seeds 10] [--tasks ring grid] [--out bench-out/mixtures]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import gankit
from gankit.memberstats import MemberMetrics

PUBLISHED = {  # modes, hq fraction, reverse KL (None: not reported); mean ± s.e. where given
    "ring": [
        ("GAN (PacGAN T1, 10 trials)", "6.3 ± 0.5", "98.2 ± 0.2%", "0.45 ± 0.09"),
        ("PacGAN4 (PacGAN T1)", "7.8 ± 0.1", "95.9 ± 1.4%", "0.07 ± 0.02"),
        ("VEEGAN (VEEGAN T1, 5 runs)", "8", "52.9%", "-"),
        ("Unrolled GAN (VEEGAN T1)", "7.6", "35.6%", "-"),
    ],
    "grid": [
        ("GAN (PacGAN T1, 10 trials)", "17.3 ± 0.8", "94.8 ± 0.7%", "0.70 ± 0.07"),
        ("PacGAN4 (PacGAN T1)", "24.8 ± 0.2", "93.6 ± 0.6%", "0.04 ± 0.01"),
        ("VEEGAN (VEEGAN T1, 5 runs)", "24.6", "40%", "-"),
        ("Unrolled GAN (VEEGAN T1)", "23.6", "16%", "-"),
    ],
}
TARGETS = {"ring": (8, 0.98, 0.02), "grid": (25, 0.95, 0.02)}


def mean_se(values: list[float]) -> tuple[float, float]:
    array = np.asarray(values, dtype=np.float64)
    return float(array.mean()), float(array.std(ddof=1) / math.sqrt(array.size)) if array.size > 1 else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tasks", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--out", default="bench-out/mixtures")
    args = parser.parse_args()
    for task in args.tasks:
        started = time.perf_counter()
        run = gankit.train(preset=task, seeds=args.seeds, out=f"{args.out}/{task}", overwrite=True,
                           figures=True)
        wall = time.perf_counter() - started
        record = MemberMetrics.from_row(run.summary)  # diverged seeds left out
        values = record.values
        modes, hq, rkl = (mean_se(record.kept(key)) for key in ("modes_covered", "hq_fraction", "reverse_kl"))
        config = run.config
        want_modes, want_hq, want_rkl = TARGETS[task]
        print(f"\n{task}: {args.seeds} seeds as one population, {config.train.steps} steps each, "
              f"{wall:.0f} s wall in all ({wall / args.seeds:.1f} s per seed), torch threads "
              f"{config.train.threads}")
        print(f"  {'':34} {'modes':>14} {'hq':>16} {'reverse KL':>14}")
        print(f"  {'gankit preset ' + task:34} {modes[0]:>7.2f} ± {modes[1]:.2f} "
              f"{100 * hq[0]:>8.1f} ± {100 * hq[1]:.1f}% {rkl[0]:>7.3f} ± {rkl[1]:.3f}")
        for name, m, h, r in PUBLISHED[task]:
            print(f"  {name:34} {m:>14} {h:>16} {r:>14}")
        print(f"  target: {want_modes} modes, hq >= {want_hq:.0%}, reverse KL <= {want_rkl}; "
              f"seeds meeting all three: {sum(values['success'])}/{args.seeds}; worst seed: "
              f"{min(values['modes_covered'])} modes, hq {min(values['hq_fraction']):.3f}, "
              f"reverse KL {max(values['reverse_kl']):.3f}")


if __name__ == "__main__":
    main()
