"""Mode collapse on the 2-D ring and grid, with and without refinement, next to the published tables.

For each task, each row is trained once as one population of --seeds members (as
`gankit train --preset P --data TASK --seeds 10`):

- `preset`: the task's recommended preset (`ring` or `grid`), at its own length (--steps-preset);
- `pacgan1`, `pacgan4`: the `pacgan` preset (PacGAN's networks and optimiser) on the task's data
  with model.pack 1 and 4, for --steps-pacgan steps (the preset's 20,000 do not fit the budget).

Every member is then scored on 2,500 samples drawn three ways: G alone (`plain`), `--refine drs`
and `--refine mh` (`Run.evaluate(2500, refine=...)`, seed 0; D calibrated with --calibrate,
isotonic by default). The table gives the mean ± standard error over the surviving members of
modes_covered, hq_fraction and reverse_kl, whether the mean meets issue 14's targets, the
training cost per seed (the population's wall and CPU time / seeds; torch runs one thread) and
the sampling cost (acceptance rate, G and D passes per returned sample, seconds), beside the
rows of PacGAN (Lin et al. 2018, Table 1) and VEEGAN (Srivastava et al. 2017, Table 1).

    python benchmarks/mixtures.py [--seeds 10] [--tasks ring grid] [--rows preset pacgan1 pacgan4]
        [--samplers plain drs mh] [--steps-pacgan 300] [--steps-preset N] [--calibrate isotonic]
        [--out bench-out/mixtures] [--figures]

Results are also written to OUT/mixtures.json after every row (one invocation's rows: give
separate invocations separate --out folders).

Cost on the idle 2-core CPU, one thread, 10 members (2026-11-30): a step of the ring/grid preset
takes 36/29 ms for the whole population, a pacgan step 300 ms (pack 1) and 170-200 ms (pack 4),
i.e. 30 and ~19 ms per seed; scoring one pacgan row's 10 x 2,500 refined samples takes ~15 s
(drs) and ~50-110 s (mh, K = 40: 40 G and 41 D passes over 25,000 points). The default
--steps-pacgan 300 keeps the whole default run near 25 minutes; 5 CPU-minutes per seed would be
about 10,000 pacgan steps (pack 1), 50 minutes of wall per pacgan row.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

import gankit
from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.evaluation.refine import CALIBRATIONS, RefineSettings, describe

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
# Issue 14's targets for the mean over seeds: modes covered, hq_fraction at least, reverse KL at most.
TARGETS = {"ring": (8, 0.95, 0.02), "grid": (25, 0.90, 0.05)}
SAMPLES = 2500
METRICS = ("modes_covered", "hq_fraction", "reverse_kl")
COSTS = ("acceptance_rate", "g_passes_per_sample", "d_passes_per_sample")
SAMPLER_NAMES = ("plain", "drs", "mh")
ROW = re.compile(r"^(preset|pacgan(\d+))$")


def mean_se(values: list[float]) -> tuple[float, float]:
    """Mean and standard error of the finite values (NaN, NaN when there are none)."""
    array = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if array.size == 0:
        return math.nan, math.nan
    return float(array.mean()), float(array.std(ddof=1) / math.sqrt(array.size)) if array.size > 1 else 0.0


def samplers(args: argparse.Namespace) -> dict[str, RefineSettings | None]:
    every = {
        "plain": None,
        "drs": RefineSettings(method="drs", gamma_percentile=args.gamma, calibrate=args.calibrate),
        "mh": RefineSettings(method="mh", chain=args.chain, calibrate=args.calibrate),
    }
    return {name: every[name] for name in args.samplers}


def row_setup(row: str, task: str, args: argparse.Namespace) -> tuple[str, str, int | None, dict[str, Any]]:
    """Label, preset, steps (None: the preset's own) and --set overrides of a row."""
    match = ROW.match(row)
    if match is None:
        raise SystemExit(f"mixtures.py: unknown row '{row}': use preset or pacganP (e.g. pacgan1 pacgan4)")
    if row == "preset":
        return f"preset {task}", task, args.steps_preset, {}
    pack = int(match.group(2))
    # PacGAN keeps batches of 100 samples; a pack that does not divide 100 gets the multiple below it.
    return (f"pacgan pack {pack}", "pacgan", args.steps_pacgan,
            {"model.pack": pack, "train.batch_size": 100 - 100 % pack})


def score(run: gankit.Run, settings: RefineSettings | None) -> dict[str, Any]:
    """Every member's metrics on 2,500 samples drawn with ``settings`` (None: G alone)."""
    started = time.perf_counter()
    try:
        row = run.evaluate(SAMPLES) if settings is None else run.evaluate(SAMPLES, refine=settings, seed=0)
    except GankitError as exc:  # e.g. DRS accepting under 0.1%: the other samplers still run
        return {"error": str(exc), "seconds": time.perf_counter() - started}
    seconds = time.perf_counter() - started
    record = MemberMetrics.from_row(row)
    result: dict[str, Any] = {"seconds": seconds, "diverged": sum(record.left_out)}
    for key in METRICS + COSTS:
        if key in record.values:
            result[key] = [float(v) for v in record.kept(key)]
    return result


def meets(task: str, modes: float, hq: float, rkl: float) -> bool:
    want_modes, want_hq, want_rkl = TARGETS[task]
    return modes >= want_modes and hq >= want_hq and rkl <= want_rkl


def seeds_meeting(task: str, result: dict[str, Any]) -> int:
    return sum(meets(task, *values) for values in zip(*(result[k] for k in METRICS)))


def print_row(label: str, task: str, result: dict[str, Any]) -> bool:
    """One line of the table; True when the mean meets every target."""
    if "error" in result:
        print(f"  {label:30} failed: {result['error']}")
        return False
    (m, m_se), (h, h_se), (r, r_se) = (mean_se(result[k]) for k in METRICS)
    ok = meets(task, m, h, r)
    seeds = len(result["modes_covered"]) + result["diverged"]  # diverged members count as missed
    if "acceptance_rate" in result:
        rate, g, d = (mean_se(result[k])[0] for k in COSTS)
        cost = f"{rate:>6.2f} {g:>7.1f} {d:>7.1f}"
    else:
        cost = f"{'-':>6} {1:>7} {0:>7}"
    print(f"  {label:30} {m:>6.2f} ± {m_se:<5.2f} {100 * h:>6.1f} ± {100 * h_se:<4.1f}% "
          f"{r:>6.3f} ± {r_se:<6.3f} {'yes' if ok else 'no':>4} {seeds_meeting(task, result):>3}/{seeds:<3} "
          f"{cost} {result['seconds']:>7.1f}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="members of each row's population")
    parser.add_argument("--tasks", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--rows", nargs="+", default=["preset", "pacgan1", "pacgan4"],
                        help="preset (the task's own preset) and pacganP (the pacgan preset, pack P)")
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLER_NAMES), choices=SAMPLER_NAMES)
    parser.add_argument("--steps-pacgan", type=int, default=300,
                        help="train.steps of the pacgan rows (the preset's 20,000 do not fit the budget)")
    parser.add_argument("--steps-preset", type=int, default=None,
                        help="train.steps of the ring/grid preset rows (default: the preset's 12,000)")
    parser.add_argument("--calibrate", default="isotonic", choices=CALIBRATIONS,
                        help="calibration of D for drs and mh (isotonic: the best of docs/BENCHMARKS.md 12)")
    parser.add_argument("--gamma", type=float, default=0.5, help="drs: gamma is this quantile of F")
    parser.add_argument("--chain", type=int, default=40, help="mh: chain length K")
    parser.add_argument("--figures", action="store_true", help="draw each run's figures (not timed)")
    parser.add_argument("--out", default="bench-out/mixtures")
    args = parser.parse_args()
    chosen = samplers(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"seeds": args.seeds, "samples": SAMPLES, "targets": TARGETS,
                               "samplers": {k: describe(v) if v else "G alone" for k, v in chosen.items()},
                               "tasks": {}}
    print("samplers: " + "; ".join(f"{k}: {v}" for k, v in results["samplers"].items()))
    for task in args.tasks:
        reached: dict[str, list[str]] = {name: [] for name in chosen}
        lines: list[tuple[str, dict[str, Any]]] = []
        task_results: dict[str, Any] = results["tasks"].setdefault(task, {})
        for row in args.rows:
            label, preset, steps, settings = row_setup(row, task, args)
            wall, cpu = time.perf_counter(), time.process_time()
            run = gankit.train(preset=preset, data=task, seeds=args.seeds, steps=steps, set=settings,
                               out=out / f"{task}-{row}", overwrite=True, figures=False)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if args.figures:
                run.plot()
            config = run.config
            training = {"preset": preset, "set": settings, "steps": config.train.steps, "wall_s": wall,
                        "cpu_s": cpu, "wall_s_per_seed": wall / args.seeds,
                        "cpu_s_per_seed": cpu / args.seeds, "threads": config.train.threads}
            print(f"\n{task}, {label}: {args.seeds} seeds as one population, {config.train.steps} steps, "
                  f"{wall:.0f} s wall / {cpu:.0f} s CPU in all = {wall / args.seeds:.1f} s wall, "
                  f"{cpu / args.seeds:.1f} s CPU per seed (torch threads {config.train.threads})", flush=True)
            scored = {}
            for name, sampler in chosen.items():
                scored[name] = score(run, sampler)
                lines.append((f"{label}, {name}", scored[name]))
                print(f"  {name}: {scored[name]['seconds']:.1f} s", flush=True)
            task_results[row] = {"label": label, "training": training, "samplers": scored}
            (out / "mixtures.json").write_text(json.dumps(results, indent=1))
            for name, result in scored.items():
                if "error" not in result and meets(task, *(mean_se(result[k])[0] for k in METRICS)):
                    reached[name].append(label)
        want_modes, want_hq, want_rkl = TARGETS[task]
        print(f"\n{task}: mean ± s.e. over seeds, {SAMPLES} samples per seed; target (issue 14, on the "
              f"mean): {want_modes} modes, hq >= {want_hq:.0%}, reverse KL <= {want_rkl}")
        print(f"  {'':30} {'modes':>14} {'hq':>14} {'reverse KL':>15} {'met':>4} {'seeds':>7} "
              f"{'accept':>6} {'G/smpl':>7} {'D/smpl':>7} {'seconds':>7}")
        for label, result in lines:
            print_row(label, task, result)
        for name, m, h, r in PUBLISHED[task]:
            print(f"  {name:30} {m:>14} {h:>14} {r:>15}")
        for name, labels in reached.items():
            where = "without refinement" if name == "plain" else f"with {name}"
            print(f"  targets reached {where}: {', '.join(labels) if labels else 'by no row'}")


if __name__ == "__main__":
    main()
