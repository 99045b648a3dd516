"""Whole processes as a user starts them, side by side in one run, with the ratios issue #16 asks for.

Each configuration runs as a fresh process twice, at a short and a long length; the difference
of the two wall times divided by the difference of the lengths is the cost of one iteration as
the user pays it (logging, evaluation, snapshots and checkpoints included; start-up and
imports cancel out), the median over ``--repeats`` pairs. The clock stops when the command
returns, as the user's wait does: `gankit train` then draws its figures in a background process,
which is waited out before the next measurement. The reference is the seed's own loop (order
fixed, benchmarks/seed_loop.py) run the same way. Then a default run is timed whole and split
into its training steps (the run's own count, `step_seconds` in run.json) and everything else.

    python benchmarks/user_runs.py [--short 200] [--long 2200] [--repeats 3] [--only-outside]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUIET_LOG = ["--set", "log.log_every=100000", "--set", "log.eval_every=100000",
             "--set", "log.snapshot_every=100000", "--set", "log.checkpoint_every=100000"]


def wall(argv: list[str]) -> float:
    """Seconds until the command returns: what the user waits for. Figures drawn afterwards in
    a background process are waited out before the next measurement, so as not to slow it."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, cwd=HERE)
    took = time.perf_counter() - start
    while subprocess.run(["pgrep", "-f", "gankit plot"], capture_output=True).returncode == 0:
        time.sleep(0.1)
    return took


def per_iteration(make: Callable[[int], list[str]], short: int, long: int, repeats: int) -> float:
    """Seconds per iteration from the difference of a short and a long whole process, the
    median over ``repeats`` pairs."""
    return statistics.median((wall(make(long)) - wall(make(short))) / (long - short)
                             for _ in range(repeats))


def gankit(*args: str) -> Callable[[int], list[str]]:
    def make(steps: int) -> list[str]:
        out = tempfile.mkdtemp(prefix="gankit-bench-")
        return [sys.executable, "-m", "gankit", "train", "--quiet", "--out", out,
                "--steps", str(steps), *args]
    return make


def seed_loop(steps: int) -> list[str]:
    code = ("from seed_loop import SeedLoop\n"
            f"loop = SeedLoop()\nfor _ in range({steps}):\n    loop.step()\n")
    return [sys.executable, "-c", "import torch; torch.set_num_threads(1)\n" + code]


def outside_steps_share(repeats: int) -> tuple[float, float, float]:
    """(wall s, training-step s, share outside the steps) of a default `gankit train`, the
    medians over ``repeats`` runs; the time in steps is the run's own count (run.json)."""
    totals, steps = [], []
    for _ in range(repeats):
        out = Path(tempfile.mkdtemp(prefix="gankit-bench-")) / "run"
        totals.append(wall([sys.executable, "-m", "gankit", "train", "--quiet", "--out", str(out)]))
        steps.append(json.loads((out / "run.json").read_text())["step_seconds"])
    total, step = statistics.median(totals), statistics.median(steps)
    return total, step, 1 - step / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=200)
    parser.add_argument("--long", type=int, default=2200)
    parser.add_argument("--repeats", type=int, default=3, help="pairs per configuration (median)")
    parser.add_argument("--only-outside", action="store_true",
                        help="only the default run's share outside its training steps")
    args = parser.parse_args()
    s, n, r = args.short, args.long, args.repeats
    if args.only_outside:
        report_outside_share(r)
        return
    m = max(s // 2, 50), max(n // 4, 300)  # 64 members are slower per step: shorter runs
    ref = per_iteration(seed_loop, s, n, r)
    seed_logged = per_iteration(gankit("--preset", "seed"), s, n, r)
    seed_quiet = per_iteration(gankit("--preset", "seed", "--no-figures", *QUIET_LOG), s, n, r)
    one_member = seed_quiet
    pop_args = ("--preset", "seed", "--seeds", "64", "--no-figures", *QUIET_LOG)
    pop_quiet = per_iteration(gankit(*pop_args), *m, r) / 64
    default_one = per_iteration(gankit("--preset", "default"), s, n, r)
    default_pop = per_iteration(gankit("--preset", "default", "--seeds", "64"), *m, r) / 64
    print(f"per iteration, whole processes ({s} vs {n} steps; 64 members: {m[0]} vs {m[1]}; "
          f"median of {r} pairs):")
    print(f"  seed's own loop                          {ref * 1e3:7.3f} ms")
    print(f"  gankit --preset seed, its own logging    {seed_logged * 1e3:7.3f} ms  "
          f"{ref / seed_logged:5.2f}x the seed loop (target >= 1.5x)")
    print(f"  gankit --preset seed, logging off        {seed_quiet * 1e3:7.3f} ms  "
          f"{ref / seed_quiet:5.2f}x the seed loop (target >= 2.5x)")
    print(f"  --seeds 64, seed-sized, logging off      {pop_quiet * 1e3:7.3f} ms per member  "
          f"{one_member / pop_quiet:5.2f}x one member (target >= 5x)")
    print(f"  --seeds 64, default preset as run        {default_pop * 1e3:7.3f} ms per member  "
          f"{default_one / default_pop:5.2f}x one member (target >= 1.5x, issue #22)")
    report_outside_share(r)


def report_outside_share(repeats: int) -> None:
    total, steps, share = outside_steps_share(repeats)
    print(f"default run: {total:.1f} s wall, {steps:.1f} s in training steps, {share:.1%} outside them "
          "(target <= 15%)")


if __name__ == "__main__":
    main()
