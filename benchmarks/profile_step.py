"""Where a training step's time goes: the torch profiler's table for one preset and population.

    python benchmarks/profile_step.py [--preset seed] [--seeds 1] [--steps 200] [--rows 15] [--by-shape]
"""

from __future__ import annotations

import argparse

import torch
from torch.profiler import profile

from gankit.config.resolve import resolve_config
from gankit.training.chunks import population_record
from gankit.training.trainer import Trainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="seed")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rows", type=int, default=15)
    parser.add_argument("--by-shape", action="store_true", help="one row per operation and input shape")
    args = parser.parse_args()
    trainer = Trainer.from_config(resolve_config(args.preset, overrides=[{"seeds": args.seeds}]))
    for _ in range(50):
        trainer.step()
    with profile(record_shapes=args.by_shape) as prof:
        for _ in range(args.steps):
            trainer.step()
    averages = prof.key_averages(group_by_input_shape=args.by_shape)
    table = averages.table(sort_by="self_cpu_time_total", row_limit=args.rows)
    total_ms = sum(e.self_cpu_time_total for e in prof.key_averages()) / 1e3
    record = population_record(trainer.gradients, trainer.members)
    if record is not None:  # a population: how the probe of the first steps computes it
        print(f"population path: {record}")
    print(f"preset {args.preset}, {args.seeds} member(s), {args.steps} steps, "
          f"{torch.get_num_threads()} thread(s): {total_ms / args.steps:.3f} ms of profiled CPU per step")
    print(table)


if __name__ == "__main__":
    main()
