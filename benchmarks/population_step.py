"""A population's training step against one member's, in one process, interleaved (issue #22).

Times ``Trainer.step`` of a one-member trainer and of an N-member one computed each way the
start-up probe chooses among (all members at once, chunks of members on one or two threads),
round by round in rotating order, and prints each as ms per member-step and as the ratio
"one member's step / a member's share of the population step" (> 1: the population pays off).
Steps only: evaluation, logging and start-up are `benchmarks/user_runs.py`'s whole processes.
It also prints what the probe itself picks for this configuration.

    python benchmarks/population_step.py [--preset default] [--seeds 64] [--rounds 5] [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from gankit.config.resolve import resolve_config
from gankit.training.chunks import MemberChunks
from gankit.training.trainer import Trainer


def timed(trainer: Trainer, seconds: float) -> float:
    """Seconds per step over at least ``seconds`` of steps."""
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or steps < 3:
        trainer.step()
        steps += 1
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default")
    parser.add_argument("--seeds", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.5, help="per configuration and round")
    args = parser.parse_args()
    torch.set_num_threads(1)
    one = Trainer.from_config(resolve_config(args.preset))
    pop = Trainer.from_config(resolve_config(args.preset, overrides=[{"seeds": args.seeds}]))
    assert isinstance(pop.gradients, MemberChunks), "this configuration takes the autograd path"
    while pop.gradients.plan is None:  # the probe: the first iterations, each plan in turn
        pop.step()
    chosen = pop.gradients.plan
    print(f"load average before: {os.getloadavg()}")
    print(f"the probe chose: {chosen.label if chosen else None}  {pop.gradients.record}")
    plans = [p for p in pop.gradients.candidates()]
    labels = ["one member"] + [p.label for p in plans]
    times: dict[str, list[float]] = {label: [] for label in labels}
    for _ in range(3):
        one.step()
    for r in range(args.rounds):
        order = labels[r % len(labels):] + labels[:r % len(labels)]
        for label in order:
            if label == "one member":
                times[label].append(timed(one, args.seconds))
            else:
                pop.gradients.plan = next(p for p in plans if p.label == label)
                times[label].append(timed(pop, args.seconds) / args.seeds)
    pop.gradients.plan = chosen
    base = statistics.median(times["one member"])
    print(f"preset {args.preset}, {args.seeds} members, median of {args.rounds} rounds, "
          f"load average after: {os.getloadavg()}")
    for label in labels:
        ms = statistics.median(times[label])
        mark = "  <- probe's choice" if chosen is not None and label == chosen.label else ""
        print(f"  {label:32s} {ms * 1e3:7.3f} ms per member-step  {base / ms:5.2f}x one member{mark}")


if __name__ == "__main__":
    main()
