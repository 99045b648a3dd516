"""GAN objectives as pure functions of discriminator logits.

Every loss is written with ``softplus`` on logits, never ``log(sigmoid(.))`` on probabilities:
``log D(x) = -softplus(-l)`` and ``log(1 - D(x)) = -softplus(l)`` stay finite when D saturates.
Each objective is a pair: the loss D minimises and the loss G minimises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.registry import Registry


@dataclass(frozen=True)
class Objective:
    name: str
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor], torch.Tensor]
    reference: str


OBJECTIVES: Registry[Objective] = Registry("objective")


def value_function(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Monte Carlo estimate of eq. (1): V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))]."""
    return -(F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean())


def bce_d_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """D maximises eq. (2), i.e. minimises -V: the binary cross-entropy of real vs fake."""
    return -value_function(real_logits, fake_logits)


def minimax_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Eq. (3) as written: G minimises E[log(1 - D(G(z)))]. Saturates when D rejects fakes."""
    return -F.softplus(fake_logits).mean()


def nonsaturating_g_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """G maximises E[log D(G(z))] instead: same fixed point, strong gradients early on."""
    return F.softplus(-fake_logits).mean()


OBJECTIVES.register("minimax")(
    Objective(
        "minimax",
        bce_d_loss,
        minimax_g_loss,
        "Goodfellow et al. 2014, eq. (1); the saturating generator loss of eq. (3)",
    )
)
OBJECTIVES.register("nonsaturating")(
    Objective(
        "nonsaturating",
        bce_d_loss,
        nonsaturating_g_loss,
        "Goodfellow et al. 2014, sec. 3: G maximises log D(G(z))",
    )
)
