"""The one training loop: Goodfellow et al. 2014, Algorithm 1, for a population of members.

Each iteration takes ``k`` discriminator steps on fresh real and generated batches, then one
generator step whose loss comes from a fresh forward pass through the *updated* D (the seed's
program reused the pre-update graph, which current PyTorch rejects). Objectives, penalties,
packing, spectral normalisation, EMA, learning-rate schedules and the number of independent
members (seeds trained at once) are parameters of this one step.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from gankit.config import Config
from gankit.errors import GankitError
from gankit.metrics import general_metrics
from gankit.models import Discriminator, Generator, initialise
from gankit.objectives import OBJECTIVES, gradient_penalty, squared_gradient_penalty
from gankit.optim import LR_SCHEDULES, FlatAdam, WeightAverage, flat_grad, flatten_parameters
from gankit.tasks import Task, make_task

# Offsets that give each random stream of a run its own seed.
DATA_STREAM, NOISE_STREAM, EVAL_STREAM, SNAPSHOT_STREAM, REFERENCE_STREAM = 1, 2, 3, 4, 5
GENERAL_SAMPLES = 2500  # the sample-based metrics cost n^2: they use at most this many points
MIN_EVAL_SAMPLES = 16  # nearest-neighbour metrics need a few more points than their k


def stream_seed(seed: int, stream: int) -> int:
    return seed * 1000 + stream


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """``[members, batch, dim]`` -> ``[members, batch / m, m * dim]``: PacGAN's packed rows."""
    members, batch, dim = x.shape
    return x.reshape(members, batch // m, m * dim)


@dataclass
class StepStats:
    """Per-member tensors from the last iteration; turned into numbers only when logged."""

    d_loss: torch.Tensor  # [members]
    g_loss: torch.Tensor  # [members]
    real_logits: torch.Tensor  # [members, rows]
    fake_logits: torch.Tensor  # [members, rows]

    def per_member(self) -> dict[str, list[float]]:
        return {
            "d_loss": self.d_loss.tolist(),
            "g_loss": self.g_loss.tolist(),
            "d_real": torch.sigmoid(self.real_logits).mean(-1).tolist(),
            "d_fake": torch.sigmoid(self.fake_logits).mean(-1).tolist(),
        }


def quartiles(values: list[float]) -> dict[str, float]:
    """Median, quartiles and range of the finite values (all NaN when there are none)."""
    finite = np.array([v for v in values if math.isfinite(v)], dtype=np.float64)
    if finite.size == 0:
        return dict.fromkeys(("median", "q1", "q3", "min", "max"), float("nan"))
    q1, median, q3 = np.percentile(finite, [25, 50, 75])
    return {"median": float(median), "q1": float(q1), "q3": float(q3),
            "min": float(finite.min()), "max": float(finite.max())}


def aggregate(per_member: dict[str, list[float]], left_out: Any = None) -> dict[str, Any]:
    """One member: its values. Several: median, quartiles, min, max and the values themselves.

    Members flagged in ``left_out`` (diverged ones) and non-finite values are left out of the
    statistics, so every metric is summarised over the same surviving members.
    """
    if len(next(iter(per_member.values()))) == 1:
        return {key: values[0] for key, values in per_member.items()}
    keep = [left_out is None or not bool(left_out[i]) for i in range(len(next(iter(per_member.values()))))]
    out: dict[str, Any] = {}
    for key, values in per_member.items():
        stats = quartiles([v for v, k in zip(values, keep) if k])
        out[key] = stats["median"]
        out.update({f"{key}_{name}": stats[name] for name in ("q1", "q3", "min", "max")})
    out["members"] = per_member
    return out


def resolve_device(name: str) -> torch.device:
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GankitError(f"device '{name}' was asked for, but PyTorch sees no CUDA device; "
                          "use --device cpu")
    return device


class Trainer:
    """A population of GANs, their optimizers and random streams, built from a config."""

    def __init__(self, config: Config, task: Task | None = None) -> None:
        self.config = config
        self.task = task or make_task(config.data.name, config.data.params)
        self.device = resolve_device(config.device)
        self.objective = OBJECTIVES.get(config.train.loss)
        if config.train.threads:
            torch.set_num_threads(config.train.threads)
        m, t = config.model, config.train
        self.members = config.seeds
        self.member_seeds = [config.seed + i for i in range(self.members)]
        generator = Generator(self.members, m.noise_dim, self.task.dim, m.g_hidden, m.activation)
        discriminator = Discriminator(self.members, self.task.dim, m.d_hidden, m.activation,
                                      m.spectral_norm, m.pack)
        initialise(self.member_seeds, generator, discriminator)
        self.generator = generator.to(self.device)
        self.discriminator = discriminator.to(self.device)
        self.g_flat = flatten_parameters(self.generator)
        self.d_flat = flatten_parameters(self.discriminator)
        self.g_params = list(self.generator.parameters())
        self.d_params = list(self.discriminator.parameters())
        self.opt_g = FlatAdam(self.g_flat, t.lr_g, tuple(t.betas_g), t.eps)  # type: ignore[arg-type]
        self.opt_d = FlatAdam(self.d_flat, t.lr_d, tuple(t.betas_d), t.eps)  # type: ignore[arg-type]
        self.ema_generator: Generator | None = None
        self.ema: WeightAverage | None = None
        if t.ema > 0:
            self.ema_generator = copy.deepcopy(self.generator)
            self.ema = WeightAverage(flatten_parameters(self.ema_generator), t.ema)
        self.data_rngs = self._rngs(DATA_STREAM)
        self.noise_rngs = self._rngs(NOISE_STREAM)
        self.diverged = torch.zeros(self.members, dtype=torch.bool)
        self.step_count = 0

    def _rngs(self, stream: int) -> list[torch.Generator]:
        """One generator per member, seeded as a single run with that member's seed would be."""
        return [torch.Generator(self.device).manual_seed(stream_seed(s, stream)) for s in self.member_seeds]

    def real(self, n: int, rngs: list[torch.Generator] | None = None) -> torch.Tensor:
        """``[members, n, dim]`` real points, each member from its own stream."""
        return torch.stack([self.task.sample(n, rng) for rng in rngs or self.data_rngs])

    def noise(self, n: int, rngs: list[torch.Generator] | None = None) -> torch.Tensor:
        """``[members, n, noise_dim]`` standard normal noise, each member from its own stream."""
        size = (n, self.config.model.noise_dim)
        return torch.stack([torch.randn(size, generator=rng, device=self.device)
                            for rng in rngs or self.noise_rngs])

    def step(self) -> StepStats:
        """One iteration of Algorithm 1 for every member."""
        t, p = self.config.train, self.config.model.pack
        lr_scale = LR_SCHEDULES[t.lr_schedule](self.step_count / t.steps)
        for _ in range(t.d_steps):
            real = pack(self.real(t.batch_size), p)
            with torch.no_grad():
                fake = pack(self.generator(self.noise(t.batch_size)), p)
            d_loss, real_logits, fake_logits = self.discriminator_loss(real, fake)
            self.opt_d.step(flat_grad(d_loss.sum(), self.d_params), lr_scale)
            if self.objective.clips_weights:
                self.d_flat.clamp_(-t.weight_clip, t.weight_clip)
        fake = pack(self.generator(self.noise(t.batch_size)), p)
        g_loss = self.objective.g_loss(self.discriminator(fake))
        self.opt_g.step(flat_grad(g_loss.sum(), self.g_params), lr_scale)
        if self.ema is not None:
            self.ema.update(self.g_flat)
        self.step_count += 1
        return StepStats(d_loss.detach(), g_loss.detach(), real_logits.detach(), fake_logits.detach())

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The objective's D loss plus any penalties, per member, from packed real and fake rows."""
        t = self.config.train
        if t.r1 > 0:
            real.requires_grad_(True)
        if t.r2 > 0:
            fake.requires_grad_(True)
        # One pass over real and fake together: D has no batch statistics, so this equals
        # two passes and halves the number of small matrix products.
        logits = self.discriminator(torch.cat([real, fake], dim=1))
        rows = real.shape[1]
        real_logits, fake_logits = logits[:, :rows], logits[:, rows:]
        loss = self.objective.d_loss(real_logits, fake_logits)
        if t.r1 > 0:
            loss = loss + t.r1 / 2 * squared_gradient_penalty(real_logits, real)
        if t.r2 > 0:
            loss = loss + t.r2 / 2 * squared_gradient_penalty(fake_logits, fake)
        if self.objective.gradient_penalty:
            eps = torch.stack([torch.rand(rows, 1, generator=rng, device=self.device)
                               for rng in self.noise_rngs])
            between = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
            loss = loss + t.gp_weight * gradient_penalty(self.discriminator(between), between)
        return loss, real_logits, fake_logits

    def nonfinite_members(self) -> tuple[list[int], str]:
        """Members whose weights hold NaN or infinity, and the first network where that was seen."""
        for name, network in (("generator", self.generator), ("discriminator", self.discriminator)):
            bad = torch.zeros(self.members, dtype=torch.bool)
            for param in network.parameters():
                bad |= ~torch.isfinite(param.detach()).flatten(1).all(dim=1).cpu()
            if bad.any():
                return bad.nonzero().flatten().tolist(), name
        return [], ""

    @property
    def eval_generator(self) -> Generator:
        """The generator used for samples and metrics: the weight average when EMA is on."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    @contextlib.contextmanager
    def _evaluating(self) -> Iterator[None]:
        """No gradients, and D in eval mode so spectral norm's power iteration stays put."""
        self.discriminator.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            self.discriminator.train()

    def sample(self, n: int, seed: int | None = None, member: int = 0) -> np.ndarray:
        """``n`` generated points of one member; a ``seed`` makes the noise reproducible."""
        if not 0 <= member < self.members:
            raise GankitError(f"member {member} does not exist; this run has members 0 to "
                              f"{self.members - 1}")
        return self.sample_members(n, seed)[member]

    def sample_members(self, n: int, seed: int | None = None) -> np.ndarray:
        """``[members, n, dim]``: every member's generator on the same noise."""
        rng = torch.Generator(self.device)
        rng.manual_seed(seed) if seed is not None else rng.seed()
        size = (n, self.config.model.noise_dim)
        with self._evaluating():
            z = torch.randn(size, generator=rng, device=self.device)
            return self.eval_generator(z.expand(self.members, *size)).cpu().numpy()

    def evaluate_members(self, n: int | None = None, general: bool = False) -> list[dict[str, float]]:
        """Each member's task metrics plus mean D on real and generated data.

        The evaluation draws come from each member's own stream, seeded afresh each time, so
        metrics at different steps compare the same noise and training randomness is untouched.
        With ``general``, also the sample-based metrics of :mod:`gankit.metrics` against a real
        sample, each with its noise floor from a second, independent real sample.
        """
        n = n or self.config.log.eval_samples or self.task.eval_samples
        n -= n % self.config.model.pack
        if n < MIN_EVAL_SAMPLES:
            raise GankitError(f"evaluation needs at least {MIN_EVAL_SAMPLES} samples "
                              f"(a multiple of model.pack), got {n}")
        rngs = self._rngs(EVAL_STREAM)
        with self._evaluating():
            real = self.real(n, rngs)
            fake = self.eval_generator(self.noise(n, rngs))
            p = self.config.model.pack
            d_real = torch.sigmoid(self.discriminator(pack(real, p))).mean(-1)
            d_fake = torch.sigmoid(self.discriminator(pack(fake, p))).mean(-1)
        fake_np, real_np = fake.cpu().numpy(), real.cpu().numpy()
        if general:
            m = min(n, GENERAL_SAMPLES)
            reference = self.real(m, self._rngs(REFERENCE_STREAM)).cpu().numpy()
        results = []
        for i in range(self.members):
            metrics = self.task.metrics(fake_np[i])
            metrics["d_real_mean"] = float(d_real[i])
            metrics["d_fake_mean"] = float(d_fake[i])
            if general:
                metrics.update(general_metrics(real_np[i, :m], fake_np[i, :m], reference[i]))
            results.append(metrics)
        return results

    def evaluate(self, n: int | None = None, general: bool = False) -> dict[str, Any]:
        """Metrics of the population: a member's own values, or their summary over members."""
        per_member = self.evaluate_members(n, general)
        return aggregate({key: [m[key] for m in per_member] for key in per_member[0]}, self.diverged)

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue exactly where this one stands."""
        return {
            "step": self.step_count,
            "members": self.members,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "ema_generator": None if self.ema_generator is None else self.ema_generator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "data_rng": [rng.get_state() for rng in self.data_rngs],
            "noise_rng": [rng.get_state() for rng in self.noise_rngs],
            "diverged": self.diverged.clone(),
        }

    def load_state_dict(self, state: dict[str, Any], restore_rng: bool = True) -> None:
        """Restore a checkpoint; ``restore_rng=False`` when only evaluating or sampling, which
        also lets a run trained on one device be opened on another."""
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        if self.ema_generator is not None:
            if state.get("ema_generator") is None:
                raise GankitError("the checkpoint holds no EMA generator, but the config asks for one")
            self.ema_generator.load_state_dict(state["ema_generator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if restore_rng:
            for rng, saved in zip(self.data_rngs, state["data_rng"], strict=True):
                rng.set_state(saved)
            for rng, saved in zip(self.noise_rngs, state["noise_rng"], strict=True):
                rng.set_state(saved)
        self.diverged = state["diverged"].clone()
        self.step_count = int(state["step"])
