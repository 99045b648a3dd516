"""Time to quality of the default run: wall seconds until a_w1 <= 0.05 and
curve_rmse_median <= 0.05, and the end state, over several seeds.

Each seed is a full `gankit train` run (default preset, progress bar and figures off) in one
process after another; the wall clock is the run's own `elapsed_s` in metrics.jsonl, which
includes its periodic evaluations. The first evaluated step that meets both thresholds counts.

    python benchmarks/time_to_quality.py [--seeds 5] [--out bench-out/ttq] [--threshold 0.05]
                                         [--set model.activation=leaky_relu ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import gankit

A_W1 = 0.05  # the threshold of a_w1 and of curve_rmse_median


def first_success(rows: list[dict], threshold: float = A_W1) -> dict | None:
    for row in rows:
        if "a_w1" in row and row["a_w1"] <= threshold and row["curve_rmse_median"] <= threshold:
            return row
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", default="bench-out/ttq")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--threshold", type=float, default=A_W1,
                        help="a_w1 and curve_rmse_median to reach (default %(default)s)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config key for every run, as gankit train --set")
    args = parser.parse_args()
    overrides = {key: value for key, _, value in (item.partition("=") for item in args.set)}
    results = []
    for seed in range(args.seeds):
        out = Path(args.out) / f"seed{seed}"
        started = time.perf_counter()
        run = gankit.train(preset=args.preset, seed=seed, out=out, overwrite=True, figures=False,
                           set=overrides)
        wall = time.perf_counter() - started
        rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        hit = first_success(rows, args.threshold)
        summary = run.summary
        results.append({"seed": seed, "hit_s": hit["elapsed_s"] if hit else None,
                        "hit_step": hit["step"] if hit else None, "wall_s": wall, **summary})
        met = "never" if hit is None else f"{hit['elapsed_s']:.1f} s (step {hit['step']})"
        print(f"seed {seed}: thresholds met at {met}; "
              f"end: a_w1 {summary['a_w1']:.4f}, curve_rmse_median {summary['curve_rmse_median']:.4f}, "
              f"valid_fraction {summary['valid_fraction']:.3f}, run {wall:.1f} s", flush=True)
    hits = [r["hit_s"] for r in results if r["hit_s"] is not None]
    missed = len(results) - len(hits)
    # a seed that never meets the thresholds counts as infinitely slow in the median
    times = sorted(hits) + [float("inf")] * missed
    print(f"\nmedian time to a_w1 <= {args.threshold} and curve_rmse_median <= {args.threshold} over "
          f"{len(results)} seeds: "
          f"{statistics.median(times):.1f} s (target <= 30 s; {missed} seed(s) never met them)")
    print(f"median end-state a_w1: {statistics.median(r['a_w1'] for r in results):.4f} "
          f"(target <= 0.03); worst {max(r['a_w1'] for r in results):.4f}")
    print(f"median end-state curve_rmse_median: "
          f"{statistics.median(r['curve_rmse_median'] for r in results):.4f}")
    print(f"median wall time of a whole run: {statistics.median(r['wall_s'] for r in results):.1f} s")


if __name__ == "__main__":
    main()
