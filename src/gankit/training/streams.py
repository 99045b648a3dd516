"""The random streams of a run: every draw of real data and noise comes from a generator the run
owns, one per member and per purpose, seeded as a single run with that member's seed would be.

A stream's seed is ``seed * 1000 + stream``; the data and noise streams advance with training
and are saved in checkpoints, the others are seeded afresh for each use so that evaluations,
snapshots and figures see the same draws whenever they are made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from gankit.tasks import Task

# Offsets that give each random stream of a run its own seed.
DATA_STREAM, NOISE_STREAM, EVAL_STREAM, SNAPSHOT_STREAM, REFERENCE_STREAM = 1, 2, 3, 4, 5


def stream_seed(seed: int, stream: int) -> int:
    return seed * 1000 + stream


class Streams:
    """Each member's training streams (its real-data sampler and its noise) and fresh ones."""

    def __init__(self, task: Task, seeds: Sequence[int], noise_dim: int, device: torch.device) -> None:
        self.task = task
        self.seeds = list(seeds)
        self.noise_dim = noise_dim
        self.device = device
        self.samplers = [task.sampler(rng) for rng in self.fresh(DATA_STREAM)]
        self.noise_rngs = self.fresh(NOISE_STREAM)

    def restart_samplers(self) -> None:
        """New samplers over the task's rows as they are now (see ``Task.include_held_out``),
        each drawing on from its member's data stream where the old one stood."""
        self.samplers = [self.task.sampler(sampler.generator) for sampler in self.samplers]

    def fresh(self, stream: int) -> list[torch.Generator]:
        """One generator per member, seeded as a single run with that member's seed would be."""
        return [torch.Generator(self.device).manual_seed(stream_seed(s, stream)) for s in self.seeds]

    def real(self, n: int, rngs: list[torch.Generator] | None = None) -> torch.Tensor:
        """``[members, n, *shape]`` real points: the training stream, or fresh draws from ``rngs``."""
        if rngs is not None:
            return torch.stack([self.task.real_with_conditions(n, rng) for rng in rngs])
        return torch.stack([sampler.draw(n) for sampler in self.samplers])

    def noise(self, n: int, rngs: list[torch.Generator] | None = None) -> torch.Tensor:
        """``[members, n, noise_dim]`` standard normal noise, each member from its own stream,
        followed by a conditional task's conditions: as training draws them for the training
        stream, as the data have them for fresh ``rngs`` (evaluations)."""
        return torch.stack([self.noise_of(n, rng, training=rngs is None) for rng in rngs or self.noise_rngs])

    def noise_of(self, n: int, rng: torch.Generator, training: bool = False,
                 asked: torch.Tensor | None = None) -> torch.Tensor:
        """``[n, noise_dim (+ condition_width)]``: G's input for ``n`` points from one generator;
        ``asked`` (``[n, width]`` or one ``[width]`` for all) in place of the drawn conditions,
        which are drawn all the same, so that the noise is the same asked or not."""
        z = torch.randn((n, self.noise_dim), generator=rng, device=self.device)
        if not self.task.condition_width:
            return z
        c = self.task.conditions(n, rng, training).to(z.device)
        if asked is not None:
            c = asked.to(c).expand_as(c)
        return torch.cat([z, c], dim=-1)

    def state_dict(self) -> dict[str, Any]:
        return {"samplers": [sampler.state_dict() for sampler in self.samplers],
                "noise_rng": [rng.get_state() for rng in self.noise_rngs]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for sampler, saved in zip(self.samplers, state["samplers"], strict=True):
            sampler.load_state_dict(saved)
        for rng, saved in zip(self.noise_rngs, state["noise_rng"], strict=True):
            rng.set_state(saved)
