"""One gradient interface for the training step, with two implementations chosen once per run.

A :class:`GradientPath` computes the discriminator phase (its loss, logits, penalties and the
flat gradient of D) and the generator phase (its loss and the flat gradient of G); the
:class:`~gankit.training.trainer.Trainer` applies the gradients and knows nothing else of how
they were made. :class:`AutogradPath` is the reference and handles everything (penalties,
spectral norm, output heads, mixed precision, any architecture); :class:`ManualPath`
(:mod:`gankit.training.manual`) is the hand-written backward of plain stacked MLPs, which gives
autograd's very bits in less time. ``train.backward = "autograd"`` forces the reference.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Protocol

import torch
from torch import nn

from gankit.config.schema import Config
from gankit.nets.acgan import ClassifierDiscriminator
from gankit.nets.spec import pack_rows
from gankit.objectives import DiscriminatorBatch, Objective, Regulariser, class_cross_entropy
from gankit.training.manual import ManualPath
from gankit.training.optim import flat_grad
from gankit.training.steps import DStep, GStep
from gankit.training.team import Solo


class GradientPath(Protocol):
    name: str

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> DStep:
        """D's phase on packed real and generated rows (``fake`` carries no graph)."""
        ...

    def g_step(self, z: torch.Tensor, real: torch.Tensor) -> GStep:
        """G's phase from noise ``z``; ``real`` (the last D phase's packed rows) is used only by
        objectives whose G loss needs D's real logits."""
        ...


def precision(config: Config, device: torch.device) -> contextlib.AbstractContextManager:
    """bfloat16 autocast for the step's forward passes when ``train.amp = "bf16"``."""
    if config.train.amp != "bf16":
        return contextlib.nullcontext()  # a disabled autocast still costs microseconds a step
    return torch.autocast(device.type, dtype=torch.bfloat16)


class AutogradPath:
    """The reference: losses and penalties through the networks, gradients by autograd."""

    name = "autograd"

    def __init__(self, generate: Callable[[torch.Tensor], torch.Tensor], discriminator: nn.Module,
                 objective: Objective, regularisers: Sequence[tuple[Regulariser, float]], pack: int,
                 mixed_precision: Callable[[], contextlib.AbstractContextManager],
                 noise_rngs: Sequence[torch.Generator], team: Solo,
                 g_params: list[nn.Parameter], d_params: list[nn.Parameter],
                 generator_term: Callable[[torch.Tensor, torch.Tensor], torch.Tensor | None] | None = None
                 ) -> None:
        self.generate, self.discriminator = generate, discriminator
        self.generator_term = generator_term  # the task's term in G's loss (Task.generator_term)
        self.objective, self.regularisers, self.pack = objective, regularisers, pack
        self.mixed_precision, self.noise_rngs, self.team = mixed_precision, noise_rngs, team
        self.g_params, self.d_params = g_params, d_params
        # ACGAN: a D with a class head brings its class loss into both losses (model.acgan)
        self.classifier = discriminator if isinstance(discriminator, ClassifierDiscriminator) else None

    def judge(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """D's logits (float32) on ``x`` and, for an ACGAN D, each row's class loss ``[members, rows]``."""
        if self.classifier is None:
            return self.discriminator(x).float(), None
        logits, class_logits, classes = self.classifier.classify(x)
        return logits.float(), class_cross_entropy(class_logits.float(), classes)

    def d_step(self, real: torch.Tensor, fake: torch.Tensor) -> DStep:
        with self.mixed_precision():
            loss, real_logits, fake_logits, terms = self.discriminator_loss(real, fake)
        return DStep(loss, real_logits, fake_logits, terms, flat_grad(loss.sum(), self.d_params))

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
        logits, class_loss = self.judge(torch.cat([real, fake], dim=1))  # losses in float32
        rows = real.shape[1]
        real_logits, fake_logits = logits[:, :rows], logits[:, rows:]
        loss = self.objective.d_loss(real_logits, fake_logits)
        values: dict[str, torch.Tensor] = {}
        if self.classifier is not None and class_loss is not None:  # real rows' own class, fakes' asked
            values["acgan_real"] = class_loss[:, :rows].mean(-1)
            values["acgan_fake"] = class_loss[:, rows:].mean(-1)
            loss = loss + self.classifier.weight * (values["acgan_real"] + values["acgan_fake"])
        batch = DiscriminatorBatch(self.discriminator, real, fake, real_logits, fake_logits, self.noise_rngs,
                                   self.team.share, self.team.data_ranks)
        for term, weight in self.regularisers:
            if term.penalty is not None:
                values[term.name] = term.penalty(batch)
                loss = loss + term.scale * weight * values[term.name]
        return loss, real_logits, fake_logits, values

    def g_step(self, z: torch.Tensor, real: torch.Tensor) -> GStep:
        with self.mixed_precision():
            fake = pack_rows(self.generate(z), self.pack)
            needs_real = self.objective.g_needs_real
            real_for_g = self.discriminator(real.detach()).float() if needs_real else None
            fake_logits, class_loss = self.judge(fake)
            loss = self.objective.g_loss(fake_logits, real_for_g)
            if self.classifier is not None and class_loss is not None:  # G is held to the class asked
                loss = loss + self.classifier.weight * class_loss.mean(-1)
        if self.generator_term is not None:
            members, width = fake.shape[0], fake.shape[-1] // self.pack
            term = self.generator_term(fake.reshape(members, -1, width), real.reshape(members, -1, width))
            if term is not None:
                loss = loss + term
        return GStep(loss, flat_grad(loss.sum(), self.g_params))


def hand_written_applies(config: Config, regularisers: Sequence[tuple[Regulariser, float]],
                         has_output_head: bool, generator: nn.Module, discriminator: nn.Module) -> bool:
    """Whether the hand-written backward computes this run: plain stacked MLPs, and nothing in
    the step that needs autograd beyond the losses."""
    return (config.train.backward == "auto" and config.train.amp == "none"
            and all(term.penalty is None for term, _ in regularisers)
            and not has_output_head and ManualPath.supports(generator, discriminator))
