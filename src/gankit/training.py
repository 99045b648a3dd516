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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from gankit.config import Config
from gankit.distributed import Solo
from gankit.errors import GankitError
from gankit.memberstats import MemberMetrics
from gankit.mlpgrad import ManualGradients, ManualMLP
from gankit.objectives import OBJECTIVES
from gankit.optim import LR_SCHEDULES, FlatAdam, WeightAverage, flat_grad, flatten_parameters
from gankit.population import build_networks, mixes_rows
from gankit.regularisers import REGULARISERS, DiscriminatorBatch, Regulariser
from gankit.tasks import Task, make_task

# Offsets that give each random stream of a run its own seed.
DATA_STREAM, NOISE_STREAM, EVAL_STREAM, SNAPSHOT_STREAM, REFERENCE_STREAM = 1, 2, 3, 4, 5
GENERAL_SAMPLES = 2500  # the sample-based metrics cost n^2: they use at most this many points
MIN_EVAL_SAMPLES = 16  # nearest-neighbour metrics need a few more points than their k


# Rows (members x samples) per network pass when evaluating: [64 members, 16,384 samples] at once
# makes activations of half a gigabyte (one evaluation of 64 default members: 5.5 s whole, 3.4 s
# in chunks; benchmarks/evaluation_cost.py --members 64). Rows are independent, so the numbers
# stay the same; a network with batch statistics (mixes_rows) is never sliced.
EVAL_CHUNK_ROWS = 4096
MIN_CHUNK_ROWS = 256  # below this the matrix products take other kernels, and other roundings


def stream_seed(seed: int, stream: int) -> int:
    return seed * 1000 + stream


def in_chunks(network: nn.Module, x: torch.Tensor,
              apply: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """``apply(x)`` (default ``network(x)``) for ``x`` of ``[members, rows, ...]``, a slice of
    rows at a time unless the network normalises by its batch (then whole, as in training)."""
    apply = apply or network
    rows = max(MIN_CHUNK_ROWS, EVAL_CHUNK_ROWS // x.shape[0])
    if x.shape[1] <= rows or mixes_rows(network):
        return apply(x)
    return torch.cat([apply(x[:, i:i + rows]) for i in range(0, x.shape[1], rows)], dim=1)


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """``[members, batch, d0, ...]`` -> ``[members, batch / m, m * d0, ...]``: PacGAN's packed rows."""
    members, batch, first, *rest = x.shape
    return x.reshape(members, batch // m, m * first, *rest)


@dataclass
class StepStats:
    """Per-member tensors from the last iteration; turned into numbers only when logged."""

    d_loss: torch.Tensor  # [members]
    g_loss: torch.Tensor  # [members]
    real_logits: torch.Tensor  # [members, rows]
    fake_logits: torch.Tensor  # [members, rows]
    terms: dict[str, torch.Tensor] = field(default_factory=dict)  # each regulariser's [members] value

    def per_member(self) -> dict[str, list[float]]:
        return {
            "d_loss": self.d_loss.tolist(),
            "g_loss": self.g_loss.tolist(),
            "d_real": torch.sigmoid(self.real_logits).mean(-1).tolist(),
            "d_fake": torch.sigmoid(self.fake_logits).mean(-1).tolist(),
            **{name: value.tolist() for name, value in self.terms.items()},
        }


def resolve_device(name: str) -> torch.device:
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GankitError(f"device '{name}' was asked for, but PyTorch sees no CUDA device; "
                          "use --device cpu")
    return device


def active_regularisers(config: Config) -> list[tuple[Regulariser, float]]:
    """The terms a config switches on, each with its weight, in a fixed order."""
    objective = OBJECTIVES.get(config.train.loss)
    names = [name for name in ("r1", "r2") if getattr(config.train, name) > 0]
    names += [name for name in objective.regularisers if name not in names]
    terms = [REGULARISERS.get(name) for name in names]
    return [(term, float(getattr(config.train, term.weight_key))) for term in terms]


class Trainer:
    """A population of GANs, their optimizers and random streams.

    It receives built networks (population modules with the member dimension first, see
    :mod:`gankit.population`); :meth:`from_config` builds them from the architecture registry.
    """

    def __init__(self, config: Config, task: Task, generator: nn.Module, discriminator: nn.Module) -> None:
        self.config = config
        self.task = task
        self.device = resolve_device(config.device)
        self.objective = OBJECTIVES.get(config.train.loss)
        self.regularisers = active_regularisers(config)
        if config.train.threads:
            torch.set_num_threads(config.train.threads)
        t = config.train
        self.members = config.seeds
        self.member_seeds = [config.seed + i for i in range(self.members)]
        self.generator = generator.to(self.device)
        self.discriminator = discriminator.to(self.device)
        self.g_flat = flatten_parameters(self.generator)
        self.d_flat = flatten_parameters(self.discriminator)
        self.g_params = list(self.generator.parameters())
        self.d_params = list(self.discriminator.parameters())
        self.opt_g = FlatAdam(self.g_flat, t.lr_g, tuple(t.betas_g), t.eps)  # type: ignore[arg-type]
        self.opt_d = FlatAdam(self.d_flat, t.lr_d, tuple(t.betas_d), t.eps)  # type: ignore[arg-type]
        self.ema_generator: nn.Module | None = None
        self.ema: WeightAverage | None = None
        if t.ema > 0:
            self.ema_generator = copy.deepcopy(self.generator)
            self.ema = WeightAverage(flatten_parameters(self.ema_generator), t.ema)
        self.samplers = [self.task.sampler(rng) for rng in self._rngs(DATA_STREAM)]
        self.noise_rngs = self._rngs(NOISE_STREAM)
        self.diverged = torch.zeros(self.members, dtype=torch.bool)
        self.step_count = 0
        # Data-parallel ranks (gankit.distributed) share out each global batch's rows and average
        # gradients; one process keeps the whole batch.
        self.team: Any = Solo()
        self.manual: ManualGradients | None = None
        self.choose_gradient_path()

    @classmethod
    def from_config(cls, config: Config, task: Task | None = None) -> Trainer:
        """Build the task and the networks the config names, member i seeded with seed + i."""
        task = task or make_task(config.data.name, config.data.params)
        resolve_device(config.device)  # fail before building anything
        seeds = [config.seed + i for i in range(config.seeds)]
        generator, discriminator = build_networks(config.model, task.shape, seeds)
        return cls(config, task, generator, discriminator)

    def choose_gradient_path(self) -> None:
        """Hand-written gradients (:mod:`gankit.mlpgrad`, the same bits, fewer graph nodes) when
        the networks are plain stacked MLPs and nothing in the step needs autograd beyond the
        losses; autograd otherwise. Called again when the networks' layers change mode."""
        plain = (self.config.train.amp == "none"
                 and all(term.penalty is None for term, _ in self.regularisers)
                 and type(self.task).output_head is Task.output_head
                 and ManualMLP.supports(self.generator) and ManualMLP.supports(self.discriminator))
        self.manual = ManualGradients(self.generator, self.discriminator) if plain else None  # type: ignore[arg-type]

    def _rngs(self, stream: int) -> list[torch.Generator]:
        """One generator per member, seeded as a single run with that member's seed would be."""
        return [torch.Generator(self.device).manual_seed(stream_seed(s, stream)) for s in self.member_seeds]

    def real(self, n: int, rngs: list[torch.Generator] | None = None) -> torch.Tensor:
        """``[members, n, *shape]`` real points: the training stream, or fresh draws from ``rngs``."""
        if rngs is not None:
            return torch.stack([self.task.sample(n, rng) for rng in rngs])
        return torch.stack([sampler.draw(n) for sampler in self.samplers])

    def noise(self, n: int, rngs: list[torch.Generator] | None = None) -> torch.Tensor:
        """``[members, n, noise_dim]`` standard normal noise, each member from its own stream."""
        size = (n, self.config.model.noise_dim)
        return torch.stack([torch.randn(size, generator=rng, device=self.device)
                            for rng in rngs or self.noise_rngs])

    def _mixed_precision(self) -> contextlib.AbstractContextManager:
        """bfloat16 autocast for the step's forward passes when ``train.amp = "bf16"``."""
        if self.config.train.amp != "bf16":
            return contextlib.nullcontext()  # a disabled autocast still costs microseconds a step
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def generate(self, z: torch.Tensor, generator: nn.Module | None = None) -> torch.Tensor:
        """G's output passed through the task's output head (e.g. a softmax per categorical
        column of a table; the identity for most tasks): what D sees and what gets decoded."""
        return self.task.output_head((generator or self.generator)(z))

    def step(self, progress: float | None = None) -> StepStats:
        """One iteration of Algorithm 1 for every member.

        ``progress`` in [0, 1] places the step on the learning-rate schedule; by default it is
        the share of ``train.steps`` done (the loop passes the time share under a time budget).
        """
        t, p = self.config.train, self.config.model.pack
        if progress is None:
            progress = self.step_count / t.steps if t.steps else 0.0
        lr_scale = LR_SCHEDULES[t.lr_schedule](min(progress, 1.0))
        terms: dict[str, torch.Tensor] = {}
        share = self.team.share
        for _ in range(t.d_steps):
            real = pack(share(self.real(t.batch_size)), p)
            with torch.no_grad(), self._mixed_precision():
                fake = pack(self.generate(share(self.noise(t.batch_size))), p)
            if self.manual is not None:
                with torch.no_grad():
                    d_loss, real_logits, fake_logits, d_grad = self.manual.discriminator(
                        self.objective, real, fake)
            else:
                with self._mixed_precision():
                    d_loss, real_logits, fake_logits, terms = self.discriminator_loss(real, fake)
                d_grad = flat_grad(d_loss.sum(), self.d_params)
            self.opt_d.step(self.team.average(d_grad), lr_scale)
            for term, weight in self.regularisers:
                if term.projection is not None:
                    terms[term.name] = term.projection(self.discriminator, weight)
        if self.manual is not None:
            with torch.no_grad():
                g_loss, g_grad = self.manual.generator(
                    self.objective, share(self.noise(t.batch_size)),
                    real if self.objective.g_needs_real else None, lambda x: pack(x, p))
        else:
            with self._mixed_precision():
                fake = pack(self.generate(share(self.noise(t.batch_size))), p)
                needs_real = self.objective.g_needs_real
                real_for_g = self.discriminator(real.detach()).float() if needs_real else None
                g_loss = self.objective.g_loss(self.discriminator(fake).float(), real_for_g)
            g_grad = flat_grad(g_loss.sum(), self.g_params)
        self.opt_g.step(self.team.average(g_grad), lr_scale)
        if self.ema is not None:
            self.ema.update(self.g_flat)
        self.step_count += 1
        return StepStats(d_loss.detach(), g_loss.detach(), real_logits.detach(), fake_logits.detach(),
                         {name: value.detach() for name, value in terms.items()})

    def discriminator_loss(self, real: torch.Tensor, fake: torch.Tensor
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """The objective's D loss plus every active penalty, per member, and each penalty's value."""
        needs = {term.input_grad for term, _ in self.regularisers if term.penalty is not None}
        if "real" in needs:
            real.requires_grad_(True)
        if "fake" in needs:
            fake.requires_grad_(True)
        # One pass over real and fake together: D has no batch statistics, so this equals
        # two passes and halves the number of small matrix products.
        logits = self.discriminator(torch.cat([real, fake], dim=1)).float()  # losses in float32
        rows = real.shape[1]
        real_logits, fake_logits = logits[:, :rows], logits[:, rows:]
        loss = self.objective.d_loss(real_logits, fake_logits)
        values: dict[str, torch.Tensor] = {}
        ranks = self.team.size if self.team.mode == "ddp" else 1
        batch = DiscriminatorBatch(self.discriminator, real, fake, real_logits, fake_logits, self.noise_rngs,
                                   self.team.share, ranks)
        for term, weight in self.regularisers:
            if term.penalty is not None:
                values[term.name] = term.penalty(batch)
                loss = loss + term.scale * weight * values[term.name]
        return loss, real_logits, fake_logits, values

    def nonfinite_members(self) -> tuple[list[int], str]:
        """Members whose weights hold NaN or infinity, and the first network where that was seen."""
        for name, network in (("generator", self.generator), ("discriminator", self.discriminator)):
            bad = torch.zeros(self.members, dtype=torch.bool)
            for param in network.parameters():
                bad |= ~torch.isfinite(param.detach()).flatten(1).all(dim=1).cpu()
            if bad.any():
                return bad.nonzero().flatten().tolist(), name
        return [], ""

    def frozen(self) -> Trainer:
        """This trainer with copies of its networks as they are now: an evaluation of this
        moment that may run in another thread while training changes the originals."""
        twin = copy.copy(self)
        twin.discriminator = copy.deepcopy(self.discriminator)
        if self.ema_generator is not None:  # the evaluation's generator (eval_generator) only
            twin.ema_generator = copy.deepcopy(self.ema_generator)
        else:
            twin.generator = copy.deepcopy(self.generator)
        twin.diverged = self.diverged.clone()
        return twin

    @property
    def eval_generator(self) -> nn.Module:
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
        """``[members, n, *shape]``: every member's generator on the same noise."""
        rng = torch.Generator(self.device)
        rng.manual_seed(seed) if seed is not None else rng.seed()
        size = (n, self.config.model.noise_dim)
        with self._evaluating():
            z = torch.randn(size, generator=rng, device=self.device)
            z = z.expand(self.members, *size)
            generator = self.eval_generator
            return in_chunks(generator, z, lambda x: self.generate(x, generator)).cpu().numpy()

    def _evaluation_draws(self, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The real and generated samples every evaluation scores: each member's own stream,
        seeded afresh, so they are the same draws at every step and for the figures."""
        n = n or self.config.log.eval_samples or self.task.eval_samples
        n -= n % self.config.model.pack
        if n < MIN_EVAL_SAMPLES:
            raise GankitError(f"evaluation needs at least {MIN_EVAL_SAMPLES} samples "
                              f"(a multiple of model.pack), got {n}")
        rngs = self._rngs(EVAL_STREAM)
        with self._evaluating():
            real = self.real(n, rngs)  # before the noise: the streams' order is part of the numbers
            generator = self.eval_generator
            return real, in_chunks(generator, self.noise(n, rngs), lambda z: self.generate(z, generator))

    def evaluation_samples(self, n: int | None = None) -> np.ndarray:
        """``[members, n, *shape]``: the generated samples the metrics are computed on."""
        return self._evaluation_draws(n)[1].cpu().numpy()

    def interim_eval_samples(self) -> int:
        """The sample size of an evaluation during training: no larger than the final one."""
        final = self.config.log.eval_samples or self.task.eval_samples
        return min(final, self.config.log.interim_eval_samples or final)

    def evaluate_members(self, n: int | None = None, general: bool = False,
                         fake: torch.Tensor | None = None) -> MemberMetrics:
        """Each member's task metrics plus mean D on real and generated data.

        The evaluation draws come from each member's own stream, seeded afresh each time, so
        metrics at different steps compare the same noise and training randomness is untouched.
        With ``general``, also the sample-based metrics of :mod:`gankit.metrics` against a real
        sample, each with its noise floor from a second, independent real sample. ``fake``
        (``[members, n, *shape]``, e.g. refined samples) is scored instead of G's own draws.
        """
        real, drawn = self._evaluation_draws(n if fake is None else fake.shape[1])
        fake = drawn if fake is None else fake.to(self.device)
        n = real.shape[1]
        with self._evaluating():
            p = self.config.model.pack
            d_real = torch.sigmoid(in_chunks(self.discriminator, pack(real, p))).mean(-1)
            d_fake = torch.sigmoid(in_chunks(self.discriminator, pack(fake, p))).mean(-1)
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
                flat = (a.reshape(a.shape[0], -1) for a in (real_np[i, :m], fake_np[i, :m], reference[i]))
                metrics.update(self.task.general_metrics(*flat))
            results.append(metrics)
        return MemberMetrics.from_members(results, self.diverged.tolist())

    def evaluate(self, n: int | None = None, general: bool = False) -> dict[str, Any]:
        """Metrics as written to the run folder: a member's own values, or their median over the
        surviving members with every member's values under ``members``."""
        return self.evaluate_members(n, general).to_row()

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
            "samplers": [sampler.state_dict() for sampler in self.samplers],
            "noise_rng": [rng.get_state() for rng in self.noise_rngs],
            "diverged": self.diverged.clone(),
        }

    def check_compatible(self, state: dict[str, Any]) -> None:
        """Refuse a saved state whose networks do not fit this trainer, naming the mismatch."""
        for net in ("generator", "discriminator"):
            saved = state.get(net)
            if not isinstance(saved, dict):
                raise GankitError(f"the checkpoint has no {net} weights")
            expected = {k: tuple(v.shape) for k, v in getattr(self, net).state_dict().items()}
            found = {k: tuple(v.shape) for k, v in saved.items()}
            if expected != found:
                diff = sorted(set(expected.items()) ^ set(found.items()))[0][0]
                raise GankitError(f"the checkpoint's {net} does not match the config "
                                  f"({diff}: checkpoint {found.get(diff)}, config {expected.get(diff)})")

    def load_state_dict(self, state: dict[str, Any], restore_rng: bool = True) -> None:
        """Restore a checkpoint; ``restore_rng=False`` when only evaluating or sampling, which
        also lets a run trained on one device be opened on another."""
        self.check_compatible(state)
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        if self.ema_generator is not None:
            if state.get("ema_generator") is None:
                raise GankitError("the checkpoint holds no EMA generator, but the config asks for one")
            self.ema_generator.load_state_dict(state["ema_generator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if restore_rng:
            for sampler, saved in zip(self.samplers, state["samplers"], strict=True):
                sampler.load_state_dict(saved)
            for rng, saved in zip(self.noise_rngs, state["noise_rng"], strict=True):
                rng.set_state(saved)
        self.diverged = state["diverged"].clone()
        self.step_count = int(state["step"])
