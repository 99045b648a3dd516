"""Sampling guided by the discriminator on the ring and the grid, next to the published tables.

Trains each set-up once as a population of --seeds members (the `ring`/`grid` presets, and the
`pacgan` preset with model.pack 1 and 4), on a shortened budget (--steps; the presets' linear
learning-rate decay is laid over it), then scores 2,500 samples of every member drawn five
ways: G alone ("plain"), DRS (gamma the 0.5 (default) or 0.95 quantile of F, or gamma = 0:
plain rejection sampling), MH-GAN (K = --chain) with raw and with isotonic-calibrated D. Prints the mean and
standard error over members of modes_covered, hq_fraction and reverse_kl, with the acceptance
rate, G passes per sample and the seconds refinement took, beside the published rows.

    python benchmarks/refine.py [--seeds 3] [--steps 4000] [--pacgan-steps 1000] [--tasks ring grid]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import gankit
from gankit.core.memberstats import MemberMetrics
from gankit.evaluation.refine import RefineSettings

PUBLISHED = {  # PacGAN (Lin et al. 2018) Table 1, 10 trials: modes, high-quality share, reverse KL
    "ring": [("GAN (PacGAN T1)", "6.3 ± 0.5", "98.2 ± 0.2%", "0.45 ± 0.09"),
             ("PacGAN4 (PacGAN T1)", "7.8 ± 0.1", "95.9 ± 1.4%", "0.07 ± 0.02")],
    "grid": [("GAN (PacGAN T1)", "17.3 ± 0.8", "94.8 ± 0.7%", "0.70 ± 0.07"),
             ("PacGAN4 (PacGAN T1)", "24.8 ± 0.2", "93.6 ± 0.6%", "0.04 ± 0.01"),
             ("GAN -> DRS (Azadi et al. 2019, as issue 14 reads it)", "same", "~70% -> ~90%", "-")],
}
SAMPLERS = {
    "plain": None,
    "drs q=0.5": RefineSettings(method="drs", gamma_percentile=0.5),
    "drs q=0.95": RefineSettings(method="drs", gamma_percentile=0.95),
    "drs gamma=0": RefineSettings(method="drs", gamma_percentile=None),
    "mh": RefineSettings(method="mh"),
    "mh isotonic": RefineSettings(method="mh", calibrate="isotonic"),
}


def mean_se(values: list[float]) -> str:
    array = np.asarray(values, dtype=np.float64)
    se = float(array.std(ddof=1) / math.sqrt(array.size)) if array.size > 1 else 0.0
    return f"{array.mean():.3f} ± {se:.3f}"


def report(run: gankit.Run, chain: int) -> None:
    print(f"{'sampler':<14} {'modes':>15} {'hq_fraction':>15} {'reverse_kl':>15} {'acceptance':>15} "
          f"{'G passes/sample':>16} {'seconds':>8}")
    for name, settings in SAMPLERS.items():
        if settings is not None and settings.method == "mh":
            settings = RefineSettings(method="mh", chain=chain, calibrate=settings.calibrate)
        started = time.perf_counter()
        row = run.evaluate(2500, refine=settings, seed=0)
        seconds = time.perf_counter() - started
        record = MemberMetrics.from_row(row) if "members" in row else MemberMetrics.from_members([row])
        cells = [mean_se(record.kept(k)) for k in ("modes_covered", "hq_fraction", "reverse_kl")]
        if settings is None:
            cells += ["-", "1"]
        else:
            cells += [mean_se(record.kept("acceptance_rate")),
                      f"{np.mean(record.kept('g_passes_per_sample')):.1f}"]
        print(f"{name:<14} " + " ".join(f"{c:>15}" for c in cells[:4]) + f" {cells[4]:>16} {seconds:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=4000, help="steps of the ring/grid presets")
    parser.add_argument("--pacgan-steps", type=int, default=1000, help="0 skips the pacgan rows")
    parser.add_argument("--pacgan-seeds", type=int, default=1)
    parser.add_argument("--packs", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--chain", type=int, default=40)
    parser.add_argument("--tasks", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--out", default="bench-out/refine")
    args = parser.parse_args()
    for task in args.tasks:
        setups = [(task, task, args.seeds, args.steps, {})]
        if args.pacgan_steps:
            setups += [(f"pacgan pack {p}", "pacgan", args.pacgan_seeds, args.pacgan_steps,
                        {"model.pack": p, "train.batch_size": 100 - 100 % p}) for p in args.packs]
        for label, preset, seeds, steps, settings in setups:
            started = time.perf_counter()
            run = gankit.train(preset=preset, data=task, seeds=seeds, steps=steps, set=settings,
                               out=f"{args.out}/{task}-{label.replace(' ', '-')}", overwrite=True,
                               figures=False)
            wall = time.perf_counter() - started
            print(f"\n{task}, preset {preset} {settings or ''}: {seeds} seed(s) as one population, "
                  f"{steps} steps ({run.config.train.steps} asked), {wall:.0f} s of training")
            report(run, args.chain)
        print(f"\npublished, {task}:")
        for name, modes, hq, rkl in PUBLISHED[task]:
            print(f"  {name:<52} modes {modes:<11} hq {hq:<13} reverse_kl {rkl}")


if __name__ == "__main__":
    main()
