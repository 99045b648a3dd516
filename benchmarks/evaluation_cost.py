"""What an evaluation costs and how much it can be trusted, by sample size (docs/BENCHMARKS.md §9).

Trains the default preset (seed 0) once, then at 300 steps and at the end times
``Trainer.evaluate_members(n)`` for n = 16,384, 4,096 and 2,048 curves, and reads a_w1 on the
run's own evaluation stream and over 8 other evaluation noises (mean and standard deviation):
the noise and the bias a smaller interim evaluation (log.interim_eval_samples) adds.

    python benchmarks/evaluation_cost.py [--sizes 16384 4096 2048] [--noises 8]
"""

from __future__ import annotations

import argparse
import statistics
import time

from gankit.config import resolve_config
from gankit.training import Trainer


def report(trainer: Trainer, sizes: list[int], noises: int) -> None:
    seeds = trainer.member_seeds
    for n in sizes:
        start = time.perf_counter()
        for _ in range(5):
            own = trainer.evaluate_members(n).value("a_w1")
        ms = (time.perf_counter() - start) / 5 * 1e3
        values = []
        for s in range(noises):
            trainer.member_seeds = [500 + s]  # another evaluation stream, the same weights
            values.append(trainer.evaluate_members(n).value("a_w1"))
        trainer.member_seeds = seeds
        print(f"  {n:>6} samples: {ms:6.1f} ms per evaluation; a_w1 {own:.4f} on the run's own stream, "
              f"{statistics.mean(values):.4f} +- {statistics.stdev(values):.4f} over {noises} noises")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16384, 4096, 2048])
    parser.add_argument("--noises", type=int, default=8)
    args = parser.parse_args()
    trainer = Trainer.from_config(resolve_config("default"))
    for stop in (300, trainer.config.train.steps):
        while trainer.step_count < stop:
            trainer.step()
        print(f"default preset, seed 0, after {stop} steps:")
        report(trainer, args.sizes, args.noises)


if __name__ == "__main__":
    main()
