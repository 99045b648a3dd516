"""How closely torchrun jobs agree with one process (docs/BENCHMARKS.md §10).

Runs each case once in one process and once as ``torchrun --standalone --nproc-per-node 2`` and
prints the largest difference in any weight of G or D between the two final checkpoints:
members of the MLP split over ranks (exact), one GAN data parallel, and dcgan members on the
vmap path.

    python benchmarks/distributed_agreement.py [--out bench-out/agreement]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from gankit.store.checkpoint import open_latest

CASES = {
    "MLP members, 4 seeds split 2 + 2": ["--preset", "seed", "--seeds", "4", "--steps", "60"],
    "MLP members, 3 seeds split 2 + 1": ["--preset", "seed", "--seeds", "3", "--steps", "60"],
    "one GAN data parallel, default preset": ["--steps", "20"],
    "dcgan members on digits, 2 seeds": ["--data", "digits", "--seeds", "2", "--steps", "30",
                                         "--set", "model.options.width=8"],
}


def train(prefix: list[str], args: list[str], out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*prefix, "-m", "gankit", "train", *args, "--quiet", "--no-figures", "--overwrite",
                    "--out", str(out)], check=True, capture_output=True, env=env)
    return open_latest(out / "checkpoints")["trainer"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench-out/agreement")
    args = parser.parse_args()
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    for i, (name, case) in enumerate(CASES.items()):
        one = train([sys.executable], case, Path(args.out) / f"{i}-one")
        two = train(torchrun, case, Path(args.out) / f"{i}-two")
        gap = max(float((one[net][k] - two[net][k]).abs().max())
                  for net in ("generator", "discriminator") for k in one[net])
        print(f"{name:40} largest weight difference {gap:.2g}", flush=True)


if __name__ == "__main__":
    main()
