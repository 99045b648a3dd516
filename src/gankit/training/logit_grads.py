"""The gradients of the objectives' losses with respect to the logits, for the hand-written
backward (:mod:`gankit.training.manual`), written as autograd's backward formulas compute them
(``derivatives.yaml``) so that they are bit for bit autograd's (``tests/unit/test_objectives.py``
checks each against autograd at ordinary and saturating logits).

Each loss is a mean over the batch of a function of the logits; the gradient of the members'
summed loss reaches that mean as ``upstream`` (1, or 0.5 for LSGAN's halves), which the mean's
backward divides by n; then the function's own backward. The ATen backward kernels are called
with their arguments named, so that a change of their signature fails loudly instead of
computing something else. An objective without an entry here is differentiated by autograd on
its logits alone.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

aten = torch.ops.aten

DGrad = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]  # (real, fake) -> grads
GGrad = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]  # (fake, real) -> d fake


def _per_sample(upstream: float, logits: torch.Tensor) -> torch.Tensor:
    """What a ``.mean(-1)`` with incoming gradient ``upstream`` passes to each logit."""
    return torch.full(logits.shape[:-1], upstream, dtype=logits.dtype,
                      device=logits.device).unsqueeze(-1).expand_as(logits) / logits.shape[-1]


def _softplus_grad(logits: torch.Tensor) -> torch.Tensor:
    """d/dl of ``softplus(l).mean(-1)`` summed over members."""
    return aten.softplus_backward(grad_output=_per_sample(1.0, logits), self=logits, beta=1, threshold=20)


def bce_d_grad(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return -_softplus_grad(-real), _softplus_grad(fake)


def minimax_g_grad(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    return aten.softplus_backward(grad_output=_per_sample(-1.0, fake), self=fake, beta=1, threshold=20)


def nonsaturating_g_grad(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    return -_softplus_grad(-fake)


def _half_square_grad(logits: torch.Tensor, target: float) -> torch.Tensor:
    """d/dl of ``0.5 * ((l - target) ** 2).mean(-1)``: pow's backward, grad * (2 * x)."""
    return _per_sample(0.5, logits) * (2 * (logits - target))


def least_squares_d_grad(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return _half_square_grad(real, 1), _half_square_grad(fake, 0)


def least_squares_g_grad(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    return _half_square_grad(fake, 1)


def wasserstein_d_grad(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return _per_sample(-1.0, real).contiguous(), _per_sample(1.0, fake).contiguous()


def wasserstein_g_grad(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    return _per_sample(-1.0, fake).contiguous()


def hinge_d_grad(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return (-aten.threshold_backward(grad_output=_per_sample(1.0, real), self=F.relu(1 - real), threshold=0),
            aten.threshold_backward(grad_output=_per_sample(1.0, fake), self=F.relu(1 + fake), threshold=0))


def relativistic_d_grad(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    grad = _softplus_grad(-(real - fake))
    return -grad, grad


def relativistic_g_grad(fake: torch.Tensor, real: torch.Tensor | None = None) -> torch.Tensor:
    if real is None:
        raise ValueError("the relativistic generator loss needs the real logits")
    return -_softplus_grad(-(fake - real))


LOGIT_GRADIENTS: dict[str, tuple[DGrad, GGrad]] = {
    "minimax": (bce_d_grad, minimax_g_grad),
    "nonsaturating": (bce_d_grad, nonsaturating_g_grad),
    "least_squares": (least_squares_d_grad, least_squares_g_grad),
    "wasserstein": (wasserstein_d_grad, wasserstein_g_grad),
    "hinge": (hinge_d_grad, wasserstein_g_grad),
    "relativistic": (relativistic_d_grad, relativistic_g_grad),
}
