"""Populations as whole processes, against one member, interleaved in one run (issue #22, item 1).

The two population lines of `benchmarks/user_runs.py` alone, measured the same way (each
configuration as a fresh process at a short and a long length; the difference of the wall
times over the difference of the lengths is an iteration as the user pays for it), but
interleaved pair by pair with the one-member run they are divided into, so that a change of load
moves both. With ``--base-src DIR`` (a `src/` folder of another tree, e.g. from
`git archive HEAD | tar -x -C DIR`), each population pair is also run with that tree on
PYTHONPATH: before and after in the same run. For the longest run of each population it prints
the share of its wall time spent in training steps (`step_seconds` in run.json) and the
population path the run recorded.

    python benchmarks/population_runs.py [--repeats 2] [--short 100] [--long 400] [--base-src DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from user_runs import QUIET_LOG, wall

CONFIGS = {  # name: (one member's arguments, the population's)
    "default preset as run": (("--preset", "default"), ("--preset", "default", "--seeds", "64")),
    "seed-sized, logging off": (("--preset", "seed", "--no-figures", *QUIET_LOG),
                                ("--preset", "seed", "--seeds", "64", "--no-figures", *QUIET_LOG)),
}


def run(args: tuple[str, ...], steps: int, src: str | None) -> tuple[float, dict]:
    """(wall seconds, run.json) of one `gankit train` process, with ``src`` on PYTHONPATH."""
    out = Path(tempfile.mkdtemp(prefix="gankit-bench-")) / "run"
    before = os.environ.pop("PYTHONPATH", None)
    if src:
        os.environ["PYTHONPATH"] = src  # wall() starts the process with this environment
    try:
        took = wall([sys.executable, "-m", "gankit", "train", "--quiet", "--out", str(out),
                     "--steps", str(steps), *args])
    finally:
        os.environ.pop("PYTHONPATH", None)
        if before is not None:
            os.environ["PYTHONPATH"] = before
    return took, json.loads((out / "run.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--short", type=int, default=100, help="a population's short run (one member: 2x)")
    parser.add_argument("--long", type=int, default=400, help="a population's long run (one member: 4x)")
    parser.add_argument("--base-src", default=None, help="another tree's src/ folder, timed the same way")
    parser.add_argument("--only", choices=list(CONFIGS), default=None)
    args = parser.parse_args()
    trees = {"this tree": None} | ({"base": str(Path(args.base_src).resolve())} if args.base_src else {})
    print(f"load average at start: {os.getloadavg()}", flush=True)
    started = time.time()
    for name, (one_args, pop_args) in CONFIGS.items():
        if args.only and name != args.only:
            continue
        one_s, one_l = 2 * args.short, 4 * args.long
        ones: list[float] = []
        pops: dict[str, list[float]] = {tree: [] for tree in trees}
        records: dict[str, tuple[float, dict]] = {}
        for _ in range(args.repeats):
            ones.append((run(one_args, one_l, None)[0] - run(one_args, one_s, None)[0]) / (one_l - one_s))
            for tree, src in trees.items():
                short = run(pop_args, args.short, src)[0]
                long_wall, info = run(pop_args, args.long, src)
                pops[tree].append((long_wall - short) / (args.long - args.short) / 64)
                records[tree] = (long_wall, info)
        one = statistics.median(ones)
        print(f"{name}: one member {one * 1e3:.3f} ms per iteration ({one_s} vs {one_l} steps; "
              f"each repeat {', '.join(f'{x * 1e3:.3f}' for x in ones)})")
        for tree, values in pops.items():
            pop = statistics.median(values)
            long_wall, info = records[tree]
            each = ", ".join(f"{one / v:.2f}x" for v in values)
            print(f"  --seeds 64, {tree:9s} {pop * 1e3:.3f} ms per member-iteration  {one / pop:5.2f}x "
                  f"one member (each repeat {each}; {args.short} vs {args.long} steps)")
            print(f"    its {args.long}-step run: {long_wall:.1f} s wall, "
                  f"{info.get('step_seconds', 0):.1f} s in steps; "
                  f"population_path {info.get('population_path')}")
        print(f"  load average now: {os.getloadavg()}, {time.time() - started:.0f} s so far", flush=True)


if __name__ == "__main__":
    main()
