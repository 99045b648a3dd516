"""Terms beside the objective: penalties added to D's loss, and projections of D's weights.

Each term is one function plus one registration. A ``penalty`` returns one value per member
from a D step's batch and is added to D's loss times its weight; a ``projection`` acts on D's
flat weights after each D step. Every active term's value is logged under its name in
``metrics.jsonl`` (for a penalty, the unweighted penalty; for clipping, the share of weights
that sat at the bound).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from gankit.core.registry import Registry
from gankit.objectives.losses import gradient_penalty, squared_gradient_penalty


@dataclass
class DiscriminatorBatch:
    """What a D step has at hand: packed rows, their logits and each member's noise stream."""

    discriminator: nn.Module
    real: torch.Tensor
    fake: torch.Tensor
    real_logits: torch.Tensor
    fake_logits: torch.Tensor
    rngs: Sequence[torch.Generator]
    # This rank's rows of a global batch (data-parallel ranks); draws cover the global batch so
    # that every rank's streams advance alike and the job equals one process.
    share: Callable[[torch.Tensor], torch.Tensor] = lambda x: x
    ranks: int = 1  # how many ranks share the global batch


@dataclass(frozen=True)
class Regulariser:
    name: str
    weight_key: str  # the config key (under [train]) that holds the term's weight
    reference: str
    penalty: Callable[[DiscriminatorBatch], torch.Tensor] | None = None
    projection: Callable[[nn.Module, float], torch.Tensor] | None = None
    scale: float = 1.0  # the loss adds scale * weight * penalty (R1 and R2 are written gamma / 2)
    input_grad: str = ""  # "real" or "fake": the rows whose gradient the penalty needs


REGULARISERS: Registry[Regulariser] = Registry("regulariser")


def r1(batch: DiscriminatorBatch) -> torch.Tensor:
    return squared_gradient_penalty(batch.real_logits, batch.real)


def r2(batch: DiscriminatorBatch) -> torch.Tensor:
    return squared_gradient_penalty(batch.fake_logits, batch.fake)


def interpolate_gradient_penalty(batch: DiscriminatorBatch) -> torch.Tensor:
    """WGAN-GP at random points between each member's paired real and fake rows."""
    rows = batch.real.shape[1]
    total = rows * batch.ranks
    trailing = (1,) * (batch.real.dim() - 2)
    eps = batch.share(torch.stack([torch.rand(total, *trailing, generator=rng, device=batch.real.device)
                                   for rng in batch.rngs]))
    between = (eps * batch.real.detach() + (1 - eps) * batch.fake.detach()).requires_grad_(True)
    return gradient_penalty(batch.discriminator(between), between)


def clip_weights(discriminator: nn.Module, bound: float) -> torch.Tensor:
    """Clip every weight of D to [-bound, bound]; per member, the share of weights that were
    at or past the bound."""
    at_bound, total = 0, 0
    with torch.no_grad():
        for param in discriminator.parameters():
            at_bound = at_bound + (param.abs() >= bound).flatten(1).sum(1)
            total += param[0].numel()
            param.clamp_(-bound, bound)
    return at_bound / total


for _term in (
    Regulariser("r1", "r1", "Mescheder et al. 2018: gamma/2 E_real[||grad D||^2]", r1, scale=0.5,
                input_grad="real"),
    Regulariser("r2", "r2", "Mescheder et al. 2018: gamma/2 E_fake[||grad D||^2]", r2, scale=0.5,
                input_grad="fake"),
    Regulariser("gp", "gp_weight", "Gulrajani et al. 2017: lambda E[(||grad D(x_hat)|| - 1)^2]",
                interpolate_gradient_penalty),
    Regulariser("clip", "weight_clip", "Arjovsky et al. 2017: D's weights clipped to [-c, c]",
                projection=clip_weights),
):
    REGULARISERS.register(_term.name)(_term)
