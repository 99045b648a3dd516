"""Sampling and scoring a trainer's members: what observers, refinement, reports and the API use.

Every evaluation draws its real and generated samples from each member's own evaluation
stream, seeded afresh, so metrics at different steps compare the same noise and training's
randomness is untouched. Networks are run without gradients and with D in eval mode (spectral
norm's power iteration stays put), a slice of rows at a time (see :func:`in_chunks`).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.nets import mixes_rows
from gankit.nets.spec import pack_rows
from gankit.training.streams import EVAL_STREAM, REFERENCE_STREAM
from gankit.training.trainer import Trainer

Asked = dict[str, Any] | Sequence[dict[str, Any]]  # what a user asks for: for every point, or per point
GENERAL_SAMPLES = 2500  # the sample-based metrics cost n^2: they use at most this many points
MIN_EVAL_SAMPLES = 16  # nearest-neighbour metrics need a few more points than their k

# Rows (members x samples) per network pass: [64 members, 16,384 samples] at once makes
# activations of half a gigabyte (benchmarks/evaluation_cost.py --members 64 measures both
# ways). Rows are independent, so the numbers stay the same; a network with batch statistics
# (mixes_rows) is never sliced.
EVAL_CHUNK_ROWS = 4096
MIN_CHUNK_ROWS = 256  # below this the matrix products take other kernels, and other roundings


def in_chunks(network: nn.Module, x: torch.Tensor,
              apply: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """``apply(x)`` (default ``network(x)``) for ``x`` of ``[members, rows, ...]``, a slice of
    rows at a time unless the network normalises by its batch (then whole, as in training)."""
    apply = apply or network
    rows = max(MIN_CHUNK_ROWS, EVAL_CHUNK_ROWS // x.shape[0])
    if x.shape[1] <= rows or mixes_rows(network):
        return apply(x)
    return torch.cat([apply(x[:, i:i + rows]) for i in range(0, x.shape[1], rows)], dim=1)


def check_member(member: int, members: int) -> None:
    if not 0 <= member < members:
        raise GankitError(f"member {member} does not exist; this run has members 0 to {members - 1}")


class Evaluator:
    """Samples and metrics of a trainer's members, from its networks as they are now (or, from
    :meth:`frozen`, as they were when it was called)."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.config, self.task, self.device = trainer.config, trainer.task, trainer.device
        self.members = trainer.members

    def frozen(self) -> Evaluator:
        """An evaluator of copies of the networks as they are now: an evaluation of this moment
        that may run in another thread while training changes the originals."""
        twin = copy.copy(self.trainer)
        twin.discriminator = copy.deepcopy(self.trainer.discriminator)
        if twin.ema_generator is not None:  # the evaluation's generator (eval_generator) only
            twin.ema_generator = copy.deepcopy(twin.ema_generator)
        else:
            twin.generator = copy.deepcopy(twin.generator)
        twin.diverged = self.trainer.diverged.clone()
        return Evaluator(twin)

    @contextlib.contextmanager
    def evaluating(self) -> Iterator[None]:
        """No gradients, and D in eval mode so spectral norm's power iteration stays put."""
        discriminator = self.trainer.discriminator
        discriminator.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            discriminator.train()

    def final_samples(self) -> int:
        """The sample size of the final evaluation: ``log.eval_samples``, else the task's own."""
        return self.config.log.eval_samples or self.task.eval_samples

    def interim_samples(self) -> int:
        """The sample size of an evaluation during training: no larger than the final one."""
        final = self.final_samples()
        return min(final, self.config.log.interim_eval_samples or final)

    def packed_size(self, n: int | None = None) -> int:
        """``n`` (default: the final size) rounded down to whole packs of D's rows."""
        n = n or self.final_samples()
        return n - n % self.config.model.pack

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        """The evaluation generator (the weight average when EMA is on) on ``z``, by slices."""
        generator = self.trainer.eval_generator
        return in_chunks(generator, z, lambda x: self.trainer.generate(x, generator))

    def sample(self, n: int, seed: int | None = None, member: int = 0,
               condition: Asked | None = None, extrapolate: bool = False) -> np.ndarray:
        """``n`` generated points of one member; a ``seed`` makes the noise reproducible;
        ``condition`` (a conditional run's names -> values) asks every point for it."""
        check_member(member, self.members)
        return self.sample_members(n, seed, condition, extrapolate)[member]

    def sample_members(self, n: int, seed: int | None = None, condition: Asked | None = None,
                       extrapolate: bool = False) -> np.ndarray:
        """``[members, n, *shape]``: every member's generator on the same noise (and, for a
        conditional run, the same conditions: drawn as the data have them, or ``condition``:
        one for every point or one per point, see ``Task.asked``)."""
        task = self.task
        asked = None if condition is None else task.asked(condition, n, self.device, extrapolate)
        rng = torch.Generator(self.device)
        rng.manual_seed(seed) if seed is not None else rng.seed()
        with self.evaluating():
            z = self.trainer.streams.noise_of(n, rng, asked=asked)
            return self.task.data_part(self.generate(z.expand(self.members, *z.shape))).cpu().numpy()

    def draws(self, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The real and generated samples every evaluation scores: each member's own stream,
        seeded afresh, so they are the same draws at every step and for the figures."""
        n = self.packed_size(n)
        if n < MIN_EVAL_SAMPLES:
            raise GankitError(f"evaluation needs at least {MIN_EVAL_SAMPLES} samples "
                              f"(a multiple of model.pack), got {n}")
        streams = self.trainer.streams
        rngs = streams.fresh(EVAL_STREAM)
        with self.evaluating():
            real = streams.real(n, rngs)  # before the noise: the streams' order is part of the numbers
            return real, self.generate(streams.noise(n, rngs))

    def samples(self, n: int | None = None) -> np.ndarray:
        """``[members, n, *shape]``: the generated samples the metrics are computed on."""
        return self.task.data_part(self.draws(n)[1]).cpu().numpy()

    def evaluate_members(self, n: int | None = None, general: bool = False,
                         fake: torch.Tensor | None = None) -> MemberMetrics:
        """Each member's task metrics plus mean D on real and generated data.

        With ``general``, also the sample-based metrics of :mod:`gankit.metrics` against a real
        sample, each with its noise floor from a second, independent real sample: fresh draws
        from the task's law (the built-in distributions), or, for a task whose real data are a
        finite held-out set (tables, images), two disjoint halves of it, no row twice
        (``Task.general_metrics`` decides; draws with replacement from a finite set would repeat
        rows, and the nearest-neighbour metrics would see distances of 0). ``fake``
        (``[members, n, *shape]``, e.g. refined samples) is scored instead of G's own draws.
        """
        real, drawn = self.draws(n if fake is None else fake.shape[1])
        fake = drawn if fake is None else fake.to(self.device)
        n = real.shape[1]
        discriminator, p = self.trainer.discriminator, self.config.model.pack
        with self.evaluating():
            d_real = torch.sigmoid(in_chunks(discriminator, pack_rows(real, p))).mean(-1)
            d_fake = torch.sigmoid(in_chunks(discriminator, pack_rows(fake, p))).mean(-1)
        points = self.task.data_part  # the metrics score points without their conditions
        fake_np, real_np = points(fake).cpu().numpy(), points(real).cpu().numpy()
        asked = fake.cpu().numpy() if self.task.condition_width else None
        if general:
            m = min(n, GENERAL_SAMPLES)
            streams = self.trainer.streams
            reference = points(streams.real(m, streams.fresh(REFERENCE_STREAM))).cpu().numpy()
        results = []
        for i in range(self.members):
            metrics = self.task.metrics(fake_np[i])
            if asked is not None:
                metrics.update(self.task.condition_metrics(asked[i]))
            metrics["d_real_mean"] = float(d_real[i])
            metrics["d_fake_mean"] = float(d_fake[i])
            if general:
                flat = (a.reshape(a.shape[0], -1) for a in (real_np[i, :m], fake_np[i, :m], reference[i]))
                metrics.update(self.task.general_metrics(*flat))
            results.append(metrics)
        return MemberMetrics.from_members(results, self.trainer.diverged.tolist())

    def evaluate(self, n: int | None = None, general: bool = False) -> dict[str, Any]:
        """Metrics as written to the run folder: a member's own values, or their median over the
        surviving members with every member's values under ``members``."""
        return self.evaluate_members(n, general).to_row()
