"""Same config, same numbers: runs from this tree against the same runs from another commit.

A restructuring must not change what a run computes. For each case below this trains the run
with the source tree of ``--base`` (checked out in a temporary git worktree) and with this
tree, then compares ``metrics.jsonl`` (without ``elapsed_s``, the only wall-clock value) and
``summary.json`` byte for byte. It prints one line per case and exits 1 on any difference.

    python benchmarks/same_numbers.py                       # against the commit before the redesign
    python benchmarks/same_numbers.py --base HEAD~3 --only seed table
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# The last commit before issue 21's redesign ("One room per job").
REDESIGN_BASE = "22d91f2"
ELAPSED = re.compile(r', "elapsed_s": [-0-9.eE+]+')


def _table_csv(path: Path) -> Path:
    """A small mixed table (numbers, a category, a missing value), the same on every call."""
    rng = np.random.default_rng(7)
    n = 400
    height = rng.normal(170, 10, n).round(1)
    weight = (height - 100 + rng.normal(0, 8, n)).round(1)
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    lines = ["height,weight,group"]
    for i in range(n):
        w = "" if i % 37 == 0 else f"{weight[i]}"
        lines.append(f"{height[i]},{w},{group[i]}")
    path.write_text("\n".join(lines) + "\n")
    return path


def cases(data_dir: Path) -> dict[str, list[str]]:
    table = _table_csv(data_dir / "people.csv")
    return {
        "seed": ["--preset", "seed"],
        "default": [],
        "members": ["--seeds", "4", "--steps", "600"],
        "ring": ["--data", "ring", "--steps", "1500"],
        "digits": ["--data", "digits", "--steps", "150", "--set", "log.eval_every=75"],
        "table": ["--data", str(table), "--steps", "300"],
    }


def train(src: Path, args: list[str], out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(src)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gankit", "train", *args, "--out", str(out), "--overwrite",
                    "--no-figures", "--quiet"], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def outputs(run: Path) -> tuple[str, str]:
    metrics = ELAPSED.sub("", (run / "metrics.jsonl").read_text())
    return metrics, (run / "summary.json").read_text()


def base_tree(rev: str, scratch: Path) -> Path:
    """The base commit's source tree (a detached worktree, removed at exit)."""
    tree = scratch / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return tree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=REDESIGN_BASE, help="commit to compare with (default: %(default)s)")
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--fresh", action="store_true", help="train the base's runs again")
    parser.add_argument("--out", default="bench-out/same_numbers", help="where the runs go")
    args = parser.parse_args()
    sha = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base], check=True,
                         capture_output=True, text=True).stdout.strip()
    out = Path(args.out)
    scratch = Path(tempfile.mkdtemp(prefix="gankit-same-"))
    failed = []
    try:
        tree = base_tree(sha, scratch)
        chosen = cases(scratch)
        for name, flags in chosen.items():
            if args.only and name not in args.only:
                continue
            base_run, this_run = out / f"{name}-base-{sha}", out / f"{name}-this"
            # The base's runs are kept and reused: the same commit always computes the same numbers.
            cached = (base_run / "summary.json").exists() and not args.fresh
            t_base = "cached" if cached else f"{train(tree / 'src', flags, base_run):.1f} s"
            t_this = train(ROOT / "src", flags, this_run)
            same = outputs(base_run) == outputs(this_run)
            rows = len(outputs(this_run)[0].splitlines())
            print(f"{name:<8} {'same' if same else 'DIFFERENT':<9} {rows:>3} metrics rows; "
                  f"gankit train {' '.join(flags) or '(defaults)'}: {t_base} at {sha}, {t_this:.1f} s here",
                  flush=True)
            if not same:
                failed.append(name)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(scratch / "base")],
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(scratch, ignore_errors=True)
    print("all cases give the same numbers" if not failed else f"different numbers: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
