"""Generator and discriminator networks: plain modules that take their sizes as arguments."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from gankit.registry import Registry

ACTIVATIONS: Registry[type[nn.Module] | object] = Registry("activation")
for _name, _factory in {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}.items():
    ACTIVATIONS.register(_name)(_factory)


class MLP(nn.Sequential):
    """Linear layers of the given widths with an activation between them, none at the end."""

    def __init__(
        self, in_dim: int, hidden: Sequence[int], out_dim: int, activation: str = "relu"
    ) -> None:
        make_activation = ACTIVATIONS.get(activation)
        widths = [in_dim, *hidden, out_dim]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i < len(widths) - 2:
                layers.append(make_activation())  # type: ignore[operator]
        super().__init__(*layers)


class Generator(MLP):
    """Maps noise z ~ N(0, I) of size ``noise_dim`` to a data point of size ``data_dim``."""

    def __init__(
        self, noise_dim: int, data_dim: int, hidden: Sequence[int], activation: str = "relu"
    ) -> None:
        super().__init__(noise_dim, hidden, data_dim, activation)
        self.noise_dim = noise_dim


class Discriminator(MLP):
    """Returns one logit per input row; D(x) = sigmoid(logit) is the probability of 'real'."""

    def __init__(self, data_dim: int, hidden: Sequence[int], activation: str = "relu") -> None:
        super().__init__(data_dim, hidden, 1, activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).squeeze(-1)
