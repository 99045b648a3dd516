"""ACGAN's discriminator (Odena et al. 2017): D with an auxiliary head that names the class.

With ``model.acgan = w > 0`` and a condition that is the one-hot of a class (the ring's and
grid's mode, an image's class), D judges the point alone and a second head on D's features
(what its last linear layer reads) gives one logit per class. The class that follows the point
in D's input (a row's one-hot, or an image's constant class planes) is that head's target, not
an input: a D that read it would learn to copy it, and its class loss would then teach G
nothing. The training step adds ``w`` times the class's cross-entropy to D's loss on real rows
(their own class) and generated rows (the class asked for), and to G's on generated rows
(:class:`gankit.training.gradients.AutogradPath`).

:class:`ClassifierDiscriminator` keeps the interface of any population D (``[members, rows, *shape]``
points followed by their conditions -> logits ``[members, rows]``), so evaluations, penalties and
refinement use it unchanged; its own type keeps it off the hand-written backward.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from gankit.core.errors import GankitError
from gankit.nets.layers import Discriminator, StackedLinear


class WithClassHead(nn.Module):
    """One member's D (or a stacked MLP D) with a class head beside its last linear layer:
    ``[..., rows, *shape]`` -> ``[..., rows, 1 + classes]`` (the logit, then the class logits)."""

    def __init__(self, network: nn.Module, classes: int, arch: str) -> None:
        super().__init__()
        last = network[-1] if isinstance(network, nn.Sequential) and len(network) else None
        if not (isinstance(last, (nn.Linear, StackedLinear)) and last.out_features == 1):
            raise GankitError(f"model.acgan puts a class head beside D's last linear layer, and "
                              f"architecture '{arch}' has no such layer; use 'mlp' or 'dcgan'")
        self.network = network
        # Built right after D, from the same RNG: a member's head is drawn the same way on the
        # stacked path (reset_member, D then head) and on the vmap path (D built, then the head).
        if isinstance(last, StackedLinear):
            members = last.weight.shape[0]
            self.head: nn.Module = StackedLinear(members, last.in_features, classes, last.spectral_norm)
        else:
            self.head = nn.Linear(last.in_features, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layers = list(self.network)
        if isinstance(self.network, Discriminator):
            x = x.flatten(2)  # as the stacked D's own forward does
        for layer in layers[:-1]:
            x = layer(x)
        return torch.cat([layers[-1](x), self.head(x)], dim=-1)

    def reset_member(self, i: int) -> None:
        """Member ``i`` of a stacked D, then of its head, from the global RNG."""
        self.network.reset_member(i)  # type: ignore[operator]
        self.head.reset_member(i)  # type: ignore[operator]


class ClassifierDiscriminator(nn.Module):
    """A population D with a class head (``network``: points ``[members, rows, *shape]`` ->
    ``[members, rows, 1 + classes]``), reading points followed by the one-hot of their class on
    the first data axis (``channels`` values or channels of the point, then ``classes``).
    ``weight``: ``model.acgan``, the class loss's weight in both losses."""

    def __init__(self, network: nn.Module, channels: int, classes: int, weight: float) -> None:
        super().__init__()
        self.network, self.channels, self.classes, self.weight = network, channels, classes, weight

    def classify(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits ``[members, rows]``, class logits ``[members, rows, classes]``, the class each
        row carries, one-hot ``[members, rows, classes]``)."""
        point, c = x[:, :, :self.channels], x[:, :, self.channels:]
        if c.dim() > 3:  # an image's class planes are constant: one pixel of each holds the class
            c = c.reshape(*c.shape[:3], math.prod(c.shape[3:]))[..., 0]
        out = self.network(point)
        return out[..., 0], out[..., 1:], c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(x)[0]


def check_acgan(condition_width: int, is_class: bool, pack: int, options: dict[str, Any]) -> None:
    """Refuse ``model.acgan`` where there is no class to classify, in one line."""
    if not condition_width:
        raise GankitError("model.acgan classifies the class a point is asked for, and this run has no "
                          "condition: set data.condition (e.g. [\"mode\"] on the ring, [\"class\"] on the "
                          "digits) or model.acgan = 0")
    if not is_class:
        raise GankitError("model.acgan classifies a condition that is one class among several (the ring's "
                          "and grid's mode, an image's class); this run's condition is not one (the curves' "
                          "a is a continuous number; a table's condition columns are in its rows)")
    if pack != 1:
        raise GankitError(f"model.acgan needs model.pack = 1 (got {pack}): its head names the class of "
                          "one point, not of a pack")
    if options.get("projection"):
        raise GankitError("model.acgan and model.options.projection both give D the class: choose one "
                          "(ACGAN's D does not read the class, it names it)")
