"""GAN objectives as pure functions of discriminator outputs (logits).

Each objective is a pair: the loss D minimises and the loss G minimises. Both take outputs of
shape ``[members, batch]`` and return one loss per member, ``[members]``: members are
independent, so the training step sums them and every member still receives its own gradient.

The cross-entropy objectives use ``softplus`` on logits, never ``log(sigmoid(.))``:
``log D(x) = -softplus(-l)`` and ``log(1 - D(x)) = -softplus(l)`` stay finite when D saturates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gankit.core.registry import Registry


@dataclass(frozen=True)
class Objective:
    """``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits, real_logits)``.

    Most generator losses ignore the real logits; a relativistic one needs them, and says so
    with ``g_needs_real`` so that the step computes them (through the updated D) only then.
    ``regularisers`` names the terms of :mod:`gankit.objectives.regularisers` the objective is defined
    with (WGAN's weight clipping, WGAN-GP's gradient penalty).
    """

    name: str
    d_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
    reference: str
    g_needs_real: bool = False
    regularisers: tuple[str, ...] = ()


OBJECTIVES: Registry[Objective] = Registry("objective")


def value_function(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Monte Carlo estimate of eq. (1): V(D, G) = E[log D(x)] + E[log(1 - D(G(z)))]."""
    return -(F.softplus(-real_logits).mean(-1) + F.softplus(fake_logits).mean(-1))


def bce_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """D maximises eq. (2), i.e. minimises -V: the binary cross-entropy of real vs fake."""
    return -value_function(real, fake)


def minimax_g_loss(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. (3) as written: G minimises E[log(1 - D(G(z)))]. Saturates when D rejects fakes."""
    return -F.softplus(fake).mean(-1)


def nonsaturating_g_loss(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """G maximises E[log D(G(z))] instead: same fixed point, strong gradients early on."""
    return F.softplus(-fake).mean(-1)


def least_squares_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """LSGAN with targets a = 0 (fake), b = 1 (real): 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * ((real - 1) ** 2).mean(-1) + 0.5 * (fake**2).mean(-1)


def least_squares_g_loss(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """LSGAN generator with target c = 1: 1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * ((fake - 1) ** 2).mean(-1)


def wasserstein_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The critic maximises E[D(x)] - E[D(G(z))], an estimate of W1 for a 1-Lipschitz D."""
    return fake.mean(-1) - real.mean(-1)


def wasserstein_g_loss(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    return -fake.mean(-1)


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return F.relu(1 - real).mean(-1) + F.relu(1 + fake).mean(-1)


def relativistic_d_loss(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """RSGAN: D says how much more real x_r looks than its paired x_f, E[softplus(-(C(x_r) - C(x_f)))]."""
    return F.softplus(-(real - fake)).mean(-1)


def relativistic_g_loss(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    """RSGAN's generator: the same with the roles swapped, E[softplus(-(C(x_f) - C(x_r)))]."""
    if real is None:
        raise ValueError("the relativistic generator loss needs the real logits")
    return F.softplus(-(fake - real)).mean(-1)


for _objective in (
    Objective("minimax", bce_d_loss, minimax_g_loss,
              "Goodfellow et al. 2014, eq. (1); the saturating generator loss of eq. (3)"),
    Objective("nonsaturating", bce_d_loss, nonsaturating_g_loss,
              "Goodfellow et al. 2014, sec. 3: G maximises log D(G(z))"),
    Objective("least_squares", least_squares_d_loss, least_squares_g_loss,
              "Mao et al. 2017, Least Squares GAN, eq. (2) with a=0, b=1, c=1"),
    Objective("wasserstein", wasserstein_d_loss, wasserstein_g_loss,
              "Arjovsky et al. 2017, Wasserstein GAN, Algorithm 1 (weight clipping)",
              regularisers=("clip",)),
    Objective("wasserstein_gp", wasserstein_d_loss, wasserstein_g_loss,
              "Gulrajani et al. 2017, Improved Training of Wasserstein GANs (gradient penalty)",
              regularisers=("gp",)),
    Objective("hinge", hinge_d_loss, wasserstein_g_loss,
              "Lim & Ye 2017, Geometric GAN; Miyato et al. 2018 (hinge loss with G: -E[D(G(z))])"),
    Objective("relativistic", relativistic_d_loss, relativistic_g_loss,
              "Jolicoeur-Martineau 2019, The relativistic discriminator (RSGAN, paired samples)",
              g_needs_real=True),
):
    OBJECTIVES.register(_objective.name)(_objective)


def class_cross_entropy(class_logits: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """ACGAN's class loss (Odena et al. 2017): each row's cross-entropy ``-log softmax(l)[k]`` of
    its class ``k`` (``classes``: one-hot, ``[members, rows, K]``), ``[members, rows]``."""
    members, rows, k = class_logits.shape
    target = classes.argmax(-1).reshape(-1)
    return F.cross_entropy(class_logits.reshape(-1, k), target, reduction="none").reshape(members, rows)


def input_gradient_norms(outputs: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """Per-sample ||d outputs / d inputs||, ``[members, batch]``, differentiable (for penalties).

    Each output depends on its own input row only (no batch statistics), so the gradient of the
    sum gives every sample's own gradient.
    """
    (grad,) = torch.autograd.grad(outputs.sum(), inputs, create_graph=True)
    return grad.flatten(2).norm(dim=-1)


def gradient_penalty(outputs: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: E[(||grad D(x_hat)|| - 1)^2] per member, at interpolates ``inputs``."""
    return ((input_gradient_norms(outputs, inputs) - 1) ** 2).mean(-1)


def squared_gradient_penalty(outputs: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """R1 (on real data) or R2 (on generated data), Mescheder et al. 2018: E[||grad D(x)||^2]."""
    return (input_gradient_norms(outputs, inputs) ** 2).mean(-1)
