"""Time per training iteration: the seed's own loop (order fixed) against gankit's --preset seed.

The reference below re-implements the seed document's program with one change only: the
generator loss is computed after the discriminator's update with a fresh forward pass, because
the seed's order raises "modified by an inplace operation" on PyTorch >= 1.5. Everything else is
the seed's: numpy data each step, sigmoid outputs and log of probabilities, two D passes, Adam
with its defaults, one shared G forward, and backward through the whole graph.

Both loops run in this process, alternating in rounds, with the same thread count; the script
prints the median time per iteration of each and their ratio.

    python benchmarks/seed_speed.py [--iterations 2000] [--rounds 5] [--threads 0]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn

from gankit.config import resolve_config
from gankit.training import Trainer


class SeedLoop:
    """The seed's training iteration, order fixed (see the module docstring)."""

    def __init__(self, seed: int = 0) -> None:
        torch.manual_seed(seed)
        np.random.seed(seed)
        self.batch, self.noise, self.points = 64, 5, 15
        self.grid = np.array([np.linspace(-2, 2, self.points) for _ in range(self.batch)])
        self.g = nn.Sequential(nn.Linear(self.noise, 128), nn.ReLU(), nn.Linear(128, self.points))
        self.d = nn.Sequential(nn.Linear(self.points, 128), nn.ReLU(), nn.Linear(128, 1), nn.Sigmoid())
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=1e-4)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=1e-4)

    def real_batch(self) -> torch.Tensor:
        a = np.random.uniform(1, 3, size=self.batch)[:, np.newaxis]
        return torch.from_numpy(a * np.power(self.grid, 2) + a - 1).float()

    def step(self) -> None:
        real = self.real_batch()
        fake = self.g(torch.randn(self.batch, self.noise))
        prob_real, prob_fake = self.d(real), self.d(fake)
        d_loss = -torch.mean(torch.log(prob_real) + torch.log(1.0 - prob_fake))
        self.opt_d.zero_grad()
        d_loss.backward(retain_graph=True)
        self.opt_d.step()
        g_loss = torch.mean(torch.log(1.0 - self.d(fake)))  # the fix: D after its update
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()


def seconds_per_iteration(step, iterations: int) -> float:
    for _ in range(50):  # warm-up: allocator, first-call dispatch
        step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    return (time.perf_counter() - start) / iterations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="0 keeps torch's default")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    seed_loop = SeedLoop()
    trainer = Trainer(resolve_config("seed"))
    times: dict[str, list[float]] = {"seed loop (order fixed)": [], "gankit --preset seed": []}
    for _ in range(args.rounds):
        times["seed loop (order fixed)"].append(seconds_per_iteration(seed_loop.step, args.iterations))
        times["gankit --preset seed"].append(seconds_per_iteration(trainer.step, args.iterations))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"{args.rounds} rounds x {args.iterations} iterations, batch 64, G 5-128-15, D 15-128-1")
    medians = {}
    for name, values in times.items():
        medians[name] = statistics.median(values)
        print(f"{name:<26} {medians[name] * 1e3:7.3f} ms/iteration "
              f"(rounds: {', '.join(f'{v * 1e3:.3f}' for v in values)})")
    ratio = medians["seed loop (order fixed)"] / medians["gankit --preset seed"]
    print(f"speed-up of gankit over the seed's loop: {ratio:.2f}x (target >= 2.5x)")


if __name__ == "__main__":
    main()
