"""What an evaluation costs and how much it can be trusted, by sample size (docs/BENCHMARKS.md §9).

Trains the default preset (seed 0) once, then at 300 steps and at the end times
``Trainer.evaluate_members(n)`` for n = 16,384, 4,096 and 2,048 curves, and reads a_w1 on the
run's own evaluation stream and over 8 other evaluation noises (mean and standard deviation):
the noise and the bias a smaller interim evaluation (log.interim_eval_samples) adds. With
--members M it times instead one full evaluation of an M-member default population with its
passes in chunks of rows (gankit.training.trainer.EVAL_CHUNK_ROWS) and in one piece, alternating.

    python benchmarks/evaluation_cost.py [--sizes 16384 4096 2048] [--noises 8] [--members 64]
"""

from __future__ import annotations

import argparse
import statistics
import time

from gankit.config.resolve import resolve_config
from gankit.evaluation import Evaluator
from gankit.training.trainer import Trainer


def report(trainer: Trainer, sizes: list[int], noises: int) -> None:
    seeds = trainer.member_seeds
    for n in sizes:
        start = time.perf_counter()
        for _ in range(5):
            own = Evaluator(trainer).evaluate_members(n).value("a_w1")
        ms = (time.perf_counter() - start) / 5 * 1e3
        values = []
        for s in range(noises):
            trainer.member_seeds = [500 + s]  # another evaluation stream, the same weights
            values.append(Evaluator(trainer).evaluate_members(n).value("a_w1"))
        trainer.member_seeds = seeds
        print(f"  {n:>6} samples: {ms:6.1f} ms per evaluation; a_w1 {own:.4f} on the run's own stream, "
              f"{statistics.mean(values):.4f} +- {statistics.stdev(values):.4f} over {noises} noises")


def population_cost(members: int, rounds: int = 3) -> None:
    import gankit.training.trainer

    trainer = Trainer.from_config(resolve_config("default", overrides=[{"seeds": members}]))
    chunked = gankit.training.trainer.EVAL_CHUNK_ROWS
    times: dict[str, list[float]] = {"in chunks": [], "in one piece": []}
    for _ in range(rounds):
        for label, rows in (("in chunks", chunked), ("in one piece", 1 << 62)):
            gankit.training.trainer.EVAL_CHUNK_ROWS = rows
            start = time.perf_counter()
            Evaluator(trainer).evaluate_members()
            times[label].append(time.perf_counter() - start)
    gankit.training.trainer.EVAL_CHUNK_ROWS = chunked
    print(f"one evaluation of {members} default-preset members (16,384 curves each), median of {rounds}: "
          + ", ".join(f"{label} {statistics.median(values):.2f} s" for label, values in times.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16384, 4096, 2048])
    parser.add_argument("--noises", type=int, default=8)
    parser.add_argument("--members", type=int, default=0, help="time a population's evaluation instead")
    args = parser.parse_args()
    if args.members:
        population_cost(args.members)
        return
    trainer = Trainer.from_config(resolve_config("default"))
    for stop in (300, trainer.config.train.steps):
        while trainer.step_count < stop:
            trainer.step()
        print(f"default preset, seed 0, after {stop} steps:")
        report(trainer, args.sizes, args.noises)


if __name__ == "__main__":
    main()
