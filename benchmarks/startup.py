"""How long ``gankit`` takes to answer bad arguments, as a user starts it: whole processes,
median and range of several runs each, next to a good command that goes on to import torch.

    python benchmarks/startup.py [--repeats 7]

The target (issue 23): ``--data missing.csv`` and ``--loss nosuch`` answered in under 0.5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = [
    ("train --data missing.csv", ["train", "--data", "missing.csv"]),
    ("train --loss nosuch", ["train", "--loss", "nosuch"]),
    ("train --data nonexist/", ["train", "--data", "nonexist/"]),
    ("train --data empty.npy", ["train", "--data", "empty.npy"]),
    ("sample nowhere --out x.csv", ["sample", "nowhere", "--out", "x.csv"]),
    ("train --help", ["train", "--help"]),
    ("train --data ring --dry-run (imports torch)", ["train", "--data", "ring", "--dry-run"]),
]


def gankit_command() -> list[str]:
    found = shutil.which("gankit", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "gankit"]


def seconds(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(gankit_command() + argv, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        (cwd / "empty.npy").write_bytes(b"")
        print(f"whole `gankit` processes, {args.repeats} runs each, seconds")
        print(f"{'command':<46} {'median':>7} {'range':>14}")
        for label, argv in CASES:
            times = [seconds(argv, cwd) for _ in range(args.repeats)]
            print(f"{label:<46} {statistics.median(times):7.2f} "
                  f"{min(times):6.2f} - {max(times):5.2f}")


if __name__ == "__main__":
    main()
