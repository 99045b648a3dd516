"""Time per training iteration: the seed's own loop (order fixed) against gankit's --preset seed.

The reference is the seed's program with its order fixed and nothing else changed
(benchmarks/seed_loop.py).

Both loops run in this process, alternating in rounds, with the same thread count; the script
prints the median time per iteration of each and their ratio.

    python benchmarks/seed_speed.py [--iterations 2000] [--rounds 5] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics

import torch

from gankit.config.resolve import resolve_config
from gankit.training.trainer import Trainer
from seed_loop import SeedLoop, seconds_per_iteration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both loops (default 1, gankit's default; 0 = torch's)")
    args = parser.parse_args()
    seed_loop = SeedLoop()
    trainer = Trainer.from_config(resolve_config("seed", overrides=[{"train": {"threads": args.threads}}]))
    if args.threads:
        torch.set_num_threads(args.threads)
    # The same run on autograd alone: what the hand-written backward (gankit.training.manual) saves.
    on_autograd = Trainer.from_config(resolve_config("seed", overrides=[
        {"train": {"threads": args.threads, "backward": "autograd"}}]))
    loops = {"seed loop (order fixed)": seed_loop.step, "gankit --preset seed": trainer.step,
             "gankit, autograd path": on_autograd.step}
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):
        for name, step in loops.items():
            times[name].append(seconds_per_iteration(step, args.iterations))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{args.rounds} rounds x {args.iterations} iterations, batch 64, G 5-128-15, D 15-128-1")
    medians = {}
    for name, values in times.items():
        medians[name] = statistics.median(values)
        print(f"{name:<26} {medians[name] * 1e3:7.3f} ms/iteration "
              f"(rounds: {', '.join(f'{v * 1e3:.3f}' for v in values)})")
    ratio = medians["seed loop (order fixed)"] / medians["gankit --preset seed"]
    manual = medians["gankit, autograd path"] / medians["gankit --preset seed"]
    print(f"speed-up of gankit over the seed's loop: {ratio:.2f}x (target >= 2.5x); "
          f"the hand-written backward over autograd: {manual:.2f}x")


if __name__ == "__main__":
    main()
