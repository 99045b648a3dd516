"""Adam and weight averaging over one flat parameter buffer per network.

Small GANs spend more time in per-tensor Python overhead than in arithmetic. Keeping each
network's parameters as views into one contiguous buffer turns an Adam step into six tensor
operations, whatever the depth, with results identical to ``torch.optim.Adam`` (tested).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

# Learning-rate multipliers as a function of training progress t in [0, 1].
LR_SCHEDULES = {
    "constant": lambda t: 1.0,
    "linear": lambda t: 1.0 - t,
    "cosine": lambda t: 0.5 * (1.0 + math.cos(math.pi * t)),
}


def flatten_parameters(module: nn.Module) -> torch.Tensor:
    """Move the module's parameters into one buffer and make each parameter a view of it."""
    params = list(module.parameters())
    flat = torch.cat([p.detach().reshape(-1) for p in params])
    offset = 0
    for p in params:
        n = p.numel()
        p.data = flat[offset : offset + n].view_as(p)
        offset += n
    return flat


def flat_grad(loss: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """The gradient of ``loss`` with respect to ``params`` only, as one flat vector."""
    grads = torch.autograd.grad(loss, params)
    return torch.cat([g.reshape(-1) for g in grads])


class FlatAdam:
    """Adam (Kingma & Ba 2015) on a flat buffer, following torch.optim.Adam's arithmetic."""

    def __init__(
        self,
        flat: torch.Tensor,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.flat = flat
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.steps = 0
        self.exp_avg = torch.zeros_like(flat)
        self.exp_avg_sq = torch.zeros_like(flat)

    @torch.no_grad()
    def step(self, grad: torch.Tensor, lr_scale: float = 1.0) -> None:
        """One update; ``lr_scale`` multiplies the learning rate (for schedules)."""
        self.steps += 1
        bias1 = 1 - self.beta1**self.steps
        bias2_sqrt = math.sqrt(1 - self.beta2**self.steps)
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        denom = (self.exp_avg_sq.sqrt() / bias2_sqrt).add_(self.eps)
        self.flat.addcdiv_(self.exp_avg, denom, value=-self.lr * lr_scale / bias1)

    def state_dict(self) -> dict:
        return {
            "steps": self.steps,
            "lr": self.lr,
            "exp_avg": self.exp_avg,
            "exp_avg_sq": self.exp_avg_sq,
        }

    def load_state_dict(self, state: dict) -> None:
        self.steps = int(state["steps"])
        self.lr = float(state["lr"])
        self.exp_avg.copy_(state["exp_avg"])
        self.exp_avg_sq.copy_(state["exp_avg_sq"])


class WeightAverage:
    """Exponential moving average of weights (EMA of G, Yazici et al. 2019).

    ``average`` is the flat buffer of a copy of the network, updated in place, so that copy
    always holds the averaged weights.
    """

    def __init__(self, average: torch.Tensor, decay: float) -> None:
        self.decay = decay
        self.average = average

    @torch.no_grad()
    def update(self, flat: torch.Tensor) -> None:
        self.average.lerp_(flat, 1 - self.decay)
