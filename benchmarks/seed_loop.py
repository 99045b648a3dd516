"""The seed document's training loop, re-implemented with one change: the order of updates.

The seed's program computes the generator loss from the graph built before the discriminator's
update, which raises "modified by an inplace operation" on PyTorch >= 1.5; here the generator
loss comes from a fresh pass through the updated D. Everything else is the seed's: numpy data
each step, sigmoid outputs and log of probabilities, two D passes, Adam with its defaults, one
shared G forward, and backward through the whole graph. Benchmarks time it as the reference.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn


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


def seconds_per_iteration(step: Callable[[], None], iterations: int) -> float:
    for _ in range(50):  # warm-up: allocator, first-call dispatch
        step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    return (time.perf_counter() - start) / iterations
