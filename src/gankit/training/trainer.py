"""The one training loop's step: Goodfellow et al. 2014, Algorithm 1, for a population of members.

Each iteration takes ``k`` discriminator steps on fresh real and generated batches, then one
generator step whose loss comes from a fresh forward pass through the *updated* D (the seed's
program reused the pre-update graph, which current PyTorch rejects). Objectives, penalties,
packing, spectral normalisation, EMA, learning-rate schedules and the number of independent
members (seeds trained at once) are parameters of this one step. How the gradients are computed
is the job of a :class:`~gankit.training.gradients.GradientPath`, chosen once here; sampling and
scoring are the job of :class:`gankit.evaluation.Evaluator`.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import torch
from torch import nn

from gankit.config.schema import Config
from gankit.core.errors import GankitError
from gankit.nets import build_networks
from gankit.nets.spec import pack_rows
from gankit.objectives import OBJECTIVES, REGULARISERS, Regulariser
from gankit.tasks import Task, make_task
from gankit.training.chunks import MemberChunks
from gankit.training.compiled import compile_when_asked
from gankit.training.gradients import AutogradPath, GradientPath, hand_written_applies, precision
from gankit.training.manual import ManualPath
from gankit.training.optim import LR_SCHEDULES, FlatAdam, WeightAverage, flatten_parameters
from gankit.training.steps import StepStats
from gankit.training.streams import Streams
from gankit.training.team import Solo


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


def condition_is_class(task: Task) -> bool:
    """Whether a task is conditioned on one class (``Task.condition_is_class``: the ring's and
    grid's mode, an image's class), which ACGAN's class head names."""
    return task.condition_is_class and task.condition_width > 0


class Trainer:
    """A population of GANs, their optimizers and random streams, stepped by Algorithm 1.

    It receives built networks (population modules with the member dimension first, see
    :mod:`gankit.nets.population`); :meth:`from_config` builds them from the architecture
    registry. ``team`` is the processes the step runs in (one, or torchrun's ranks).
    """

    def __init__(self, config: Config, task: Task, generator: nn.Module, discriminator: nn.Module,
                 team: Solo | None = None) -> None:
        self.config = config
        self.task = task
        self.team = team or Solo()
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
        self.opt_g = FlatAdam(self.g_flat, t.lr_g, tuple(t.betas_g), t.eps)  # type: ignore[arg-type]
        self.opt_d = FlatAdam(self.d_flat, t.lr_d, tuple(t.betas_d), t.eps)  # type: ignore[arg-type]
        self.ema_generator: nn.Module | None = None
        self.ema: WeightAverage | None = None
        if t.ema > 0:
            self.ema_generator = copy.deepcopy(self.generator)
            self.ema = WeightAverage(flatten_parameters(self.ema_generator), t.ema)
        self.streams = Streams(task, self.member_seeds, config.model.noise_dim, self.device)
        self.diverged = torch.zeros(self.members, dtype=torch.bool)
        self.step_count = 0
        self.gradients = self._gradient_path()

    @classmethod
    def from_config(cls, config: Config, task: Task | None = None, team: Solo | None = None) -> Trainer:
        """Build the task and the networks the config names, member i seeded with seed + i."""
        task = task or make_task(config.data.name, config.data.params)
        resolve_device(config.device)  # fail before building anything
        seeds = [config.seed + i for i in range(config.seeds)]
        pad = team is not None and team.pads_lone_member
        generator, discriminator = build_networks(config.model, task.shape, seeds, pad_lone_member=pad,
                                                  condition_width=task.condition_width,
                                                  condition_is_class=condition_is_class(task))
        return cls(config, task, generator, discriminator, team)

    @compile_when_asked  # train.compile: the chosen path's phases through torch.compile
    def _gradient_path(self) -> GradientPath:
        # The hand-written backward knows G -> D, with c concatenated after G's point at most; a
        # head, a term in G's loss or conditions attached otherwise (hard ones, planes) take autograd.
        task = type(self.task)
        has_head = (task.output_head is not Task.output_head or task.generator_term is not Task.generator_term
                    or not ManualPath.takes_conditions(self.task))
        if hand_written_applies(self.config, self.regularisers, has_head, self.generator, self.discriminator):
            manual = ManualPath(self.generator, self.discriminator, self.objective,  # type: ignore[arg-type]
                                self.config.model.pack, self.task.condition_width)
            if self.members == 1:
                return manual
            # a population a few members at a time where a probe finds that faster (same bits)
            return MemberChunks(manual, self.members, self.device,
                                self.config.train.population)
        return AutogradPath(self.generate, self.discriminator, self.objective, self.regularisers,
                            self.config.model.pack, self._mixed_precision, self.streams.noise_rngs, self.team,
                            list(self.generator.parameters()), list(self.discriminator.parameters()),
                            self.task.generator_term)

    def _mixed_precision(self) -> contextlib.AbstractContextManager:
        return precision(self.config, self.device)

    @property
    def eval_generator(self) -> nn.Module:
        """The generator used for samples and metrics: the weight average when EMA is on."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def generate(self, z: torch.Tensor, generator: nn.Module | None = None) -> torch.Tensor:
        """G's output passed through the task's output head (e.g. a softmax per categorical
        column of a table; the identity for most tasks), followed by the conditions at the end of
        ``z`` for a conditional task: what D sees (:meth:`Task.data_part` is what gets decoded)."""
        x = self.task.output_head((generator or self.generator)(z))
        width = self.task.condition_width
        return self.task.attach_conditions(x, z[..., -width:]) if width else x

    def step(self, progress: float | None = None) -> StepStats:
        """One iteration of Algorithm 1 for every member.

        ``progress`` in [0, 1] places the step on the learning-rate schedule; by default it is
        the share of ``train.steps`` done (the loop passes the time share under a time budget).
        """
        t, p, share = self.config.train, self.config.model.pack, self.team.share
        if progress is None:
            progress = self.step_count / t.steps if t.steps else 0.0
        lr_scale = LR_SCHEDULES[t.lr_schedule](min(progress, 1.0))
        for _ in range(t.d_steps):
            real = pack_rows(share(self.streams.real(t.batch_size)), p)
            with torch.no_grad(), self._mixed_precision():
                fake = pack_rows(self.generate(share(self.streams.noise(t.batch_size))), p)
            d = self.gradients.d_step(real, fake)
            self.opt_d.step(self.team.average(d.grad), lr_scale)
            terms = dict(d.terms)
            for term, weight in self.regularisers:
                if term.projection is not None:
                    terms[term.name] = term.projection(self.discriminator, weight)
        g = self.gradients.g_step(share(self.streams.noise(t.batch_size)), real)
        self.opt_g.step(self.team.average(g.grad), lr_scale)
        if self.ema is not None:
            self.ema.update(self.g_flat)
        self.step_count += 1
        return StepStats(d.loss.detach(), g.loss.detach(), d.real_logits.detach(), d.fake_logits.detach(),
                         {name: value.detach() for name, value in terms.items()})

    def nonfinite_members(self) -> tuple[list[int], str]:
        """Members whose weights hold NaN or infinity, and the first network where that was seen."""
        for name, network in (("generator", self.generator), ("discriminator", self.discriminator)):
            bad = torch.zeros(self.members, dtype=torch.bool)
            for param in network.parameters():
                bad |= ~torch.isfinite(param.detach()).flatten(1).all(dim=1).cpu()
            if bad.any():
                return bad.nonzero().flatten().tolist(), name
        return [], ""

    def mark_diverged(self, members: torch.Tensor | list[int]) -> None:
        """Leave these members (a mask or indices) out of the statistics from now on."""
        self.diverged[members] = True

    @property
    def learning_rates(self) -> tuple[float, float]:
        return self.opt_g.lr, self.opt_d.lr

    def set_learning_rates(self, lr_g: float, lr_d: float) -> None:
        self.opt_g.lr, self.opt_d.lr = lr_g, lr_d

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
            **self.streams.state_dict(),
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
            self.streams.load_state_dict(state)
        self.diverged = state["diverged"].clone()
        self.step_count = int(state["step"])
