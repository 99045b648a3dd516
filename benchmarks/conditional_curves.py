"""The curves on request: a GAN conditioned on a (``--condition-on a``) against the truth.

Trains the default preset on the seed's curves twice, as a user starts it (whole ``gankit train``
processes, timed): unconditioned, and with ``--condition-on a``. Then asks the conditional run
for ``--per-a`` curves at each a of a grid over [1, 3] (``gankit sample --condition a=A``, in
Python here) and fits each curve's a by least squares: the mean absolute error |a_hat - a| per
a and over the grid (target: at most 0.05, ten times below the spread of a), and the spread
(standard deviation) of a_hat at one a, which a perfect conditional generator makes 0. Writes
``curves_by_a.png``: generated curves for a = 1, 1.5, ..., 3 over their true parabolas.

``--backward both`` trains the conditional run twice per seed, on the hand-written backward
(``train.backward = auto``, what a user gets) and on autograd (``--set train.backward=autograd``,
how conditions trained before the hand-written path took them), interleaved with the
unconditioned run, so that the three times of a seed see the same load. The ratio printed is
conditional time / unconditioned time (target: about 1, "within the default run's time").

    python benchmarks/conditional_curves.py --seeds 0,1,2 --out runs/bench_conditional
    python benchmarks/conditional_curves.py --seeds 0,1,2 --backward both --out runs/bench_conditional
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

GRID = np.round(np.arange(1.0, 3.0001, 0.25), 2)


def train(out: Path, seed: int, conditional: bool, backward: str = "auto") -> float:
    command = [sys.executable, "-m", "gankit", "train", "--data", "parabola", "--seed", str(seed),
               "--out", str(out), "--overwrite", "--no-figures", "--set", f"train.backward={backward}"]
    if conditional:
        command += ["--condition-on", "a"]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def errors(run_dir: Path, per_a: int) -> dict[str, list[float]]:
    import gankit
    from gankit.tasks.parabola import fit_curves

    run = gankit.Run.load(run_dir)
    out: dict[str, list[float]] = {"a": [], "mae": [], "spread": []}
    for a in GRID:
        a_hat, _ = fit_curves(run.sample(per_a, seed=0, condition={"a": float(a)}), run.task.x)
        out["a"].append(float(a))
        out["mae"].append(float(np.mean(np.abs(a_hat - a))))
        out["spread"].append(float(np.std(a_hat)))
    return out


def figure(run_dir: Path, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import gankit

    run = gankit.Run.load(run_dir)
    x = run.task.x
    fig, ax = plt.subplots(figsize=(6, 4))
    for a, colour in zip((1.0, 1.5, 2.0, 2.5, 3.0), plt.cm.viridis(np.linspace(0, 0.9, 5))):
        ax.plot(x, a * x**2 + a - 1, "--", c=colour, lw=2.5, label=f"a = {a:g}: true")
        for curve in run.sample(6, seed=1, condition={"a": a}):
            ax.plot(x, curve, c=colour, lw=0.8, alpha=0.8)
    ax.set_title("6 generated curves per requested a (solid) over the true curve (dashed)", fontsize=9)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def load() -> str:
    """The load averages (1, 5, 15 minutes): the times are only as good as the machine is idle."""
    import os

    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0", help="comma-separated run seeds")
    parser.add_argument("--per-a", type=int, default=1000, help="curves asked for at each a")
    parser.add_argument("--backward", choices=("auto", "autograd", "both"), default="auto",
                        help="the conditional run's train.backward; both: each, interleaved")
    parser.add_argument("--out", default="runs/bench_conditional")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = ["auto", "autograd"] if args.backward == "both" else [args.backward]
    print(f"start: {load()}")
    results = []
    for seed in (int(s) for s in args.seeds.split(",")):
        plain_s = train(out / f"plain_{seed}", seed, False)
        for backward in paths:
            run_dir = out / f"cond_{seed}" if backward == "auto" else out / f"cond_{backward}_{seed}"
            cond_s = train(run_dir, seed, True, backward)
            summary = json.loads((run_dir / "summary.json").read_text())
            grid = errors(run_dir, args.per_a)
            results.append({"seed": seed, "backward": backward, "plain_s": plain_s, "conditional_s": cond_s,
                            "ratio": cond_s / plain_s, "grid": grid, "load": load(),
                            "condition_error": summary["condition_error"], "a_w1": summary["a_w1"]})
            mean = np.mean(grid["mae"])
            print(f"seed {seed}, conditional on {backward}: conditional / unconditioned time "
                  f"{cond_s:.1f} s / {plain_s:.1f} s = {cond_s / plain_s:.2f}x; mean |a_hat - a| {mean:.4f}; "
                  f"condition_error (eval) {summary['condition_error']:.4f}, a_w1 {summary['a_w1']:.4f} "
                  f"({load()})")
            print("   a     " + " ".join(f"{a:6.2f}" for a in grid["a"]))
            print("   mae   " + " ".join(f"{v:6.4f}" for v in grid["mae"]) + f"   mean {mean:.4f}")
            print("   spread" + " ".join(f"{v:7.4f}" for v in grid["spread"]))
    for backward in paths:
        mine = [r for r in results if r["backward"] == backward]
        maes = [np.mean(r["grid"]["mae"]) for r in mine]
        ratios = [r["ratio"] for r in mine]
        print(f"conditional on {backward}, {len(mine)} seed(s): time ratio conditional / unconditioned "
              f"median {np.median(ratios):.2f}x (" + ", ".join(f"{v:.2f}x" for v in ratios) + "); "
              f"mean |a_hat - a| over the grid {np.mean(maes):.4f} (range {min(maes):.4f}-{max(maes):.4f}; "
              "target <= 0.05)")
    print(f"end: {load()}")
    first = results[0]
    figure(out / (f"cond_{first['seed']}" if first["backward"] == "auto"
                  else f"cond_{first['backward']}_{first['seed']}"), out / "curves_by_a.png")
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(f"figure: {out / 'curves_by_a.png'}; numbers: {out / 'results.json'}")


if __name__ == "__main__":
    main()
