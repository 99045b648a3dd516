"""The stacked MLP: generator and discriminator networks with a member dimension.

Every network here is a *population* of ``members`` independent MLPs stored as stacked weights
(``[members, out, in]``) and applied with one batched matrix product per layer, so that many
seeds train as one computation. A single run is a population of one; with one member the
batched product costs the same as ``nn.Linear`` (measured). Inputs and outputs carry the member
dimension first: ``[members, batch, features]``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from gankit.core.registry import Registry

ACTIVATIONS: Registry[Callable[[], nn.Module]] = Registry("activation")
for _name, _factory in {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}.items():
    ACTIVATIONS.register(_name)(_factory)


class StackedLinear(nn.Module):
    """``members`` independent linear layers, one per member, applied in one batched product.

    With ``spectral_norm`` the weight is divided by an estimate of its largest singular value
    (Miyato et al. 2018), one power iteration per forward pass in training mode.
    """

    def __init__(self, members: int, in_features: int, out_features: int,
                 spectral_norm: bool = False) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(members, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(members, out_features))
        self.spectral_norm = spectral_norm
        self.as_in_a_population = False
        if spectral_norm:
            self.register_buffer("u", torch.empty(members, out_features))

    def reset_member(self, i: int) -> None:
        """Initialise member ``i`` exactly as ``nn.Linear`` would, from the global RNG."""
        reference = nn.Linear(self.in_features, self.out_features)
        with torch.no_grad():
            self.weight[i].copy_(reference.weight)
            self.bias[i].copy_(reference.bias)
            if self.spectral_norm:
                self.u[i].copy_(F.normalize(torch.randn(self.out_features), dim=0))

    def effective_weight(self) -> torch.Tensor:
        if not self.spectral_norm:
            return self.weight
        if self.training:
            with torch.no_grad():
                v = F.normalize(torch.einsum("moi,mo->mi", self.weight, self.u), dim=-1)
                self.u.copy_(F.normalize(torch.einsum("moi,mi->mo", self.weight, v), dim=-1))
        with torch.no_grad():
            v = F.normalize(torch.einsum("moi,mo->mi", self.weight, self.u), dim=-1)
        sigma = torch.einsum("mo,moi,mi->m", self.u, self.weight, v)
        return self.weight / sigma[:, None, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.effective_weight(), self.bias
        if self.as_in_a_population and weight.shape[0] == 1 and self.out_features == 1:
            # A lone member with one output takes another CPU kernel (a matrix-vector product)
            # whose sums round differently from a population's. A torchrun rank holding one
            # member of a population adds a blank second member to stay on the batched kernel and
            # compute the very bits the single process does; a single run keeps the faster path.
            y = torch.baddbmm(F.pad(bias, (0, 0, 0, 1)).unsqueeze(1), F.pad(x, (0, 0, 0, 0, 0, 1)),
                              F.pad(weight, (0, 0, 0, 0, 0, 1)).transpose(1, 2))
            return y[:1]
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


class MLP(nn.Sequential):
    """Layers of the given widths with an activation between them, none after the last."""

    def __init__(self, members: int, in_dim: int, hidden: Sequence[int], out_dim: int,
                 activation: str = "relu", spectral_norm: bool = False) -> None:
        make_activation = ACTIVATIONS.get(activation)
        widths = [in_dim, *hidden, out_dim]
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(StackedLinear(members, n_in, n_out, spectral_norm))
            if i < len(widths) - 2:
                layers.append(make_activation())
        super().__init__(*layers)
        self.members = members

    def linear_layers(self) -> list[StackedLinear]:
        return [m for m in self if isinstance(m, StackedLinear)]

    def reset_member(self, i: int) -> None:
        """Initialise member ``i`` from the global RNG as the same layers of ``nn.Linear`` would."""
        for layer in self.linear_layers():
            layer.reset_member(i)


def _as_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int) else tuple(shape)


class Generator(MLP):
    """Maps noise ``[members, batch, noise_dim]`` to data ``[members, batch, *shape]``."""

    def __init__(self, members: int, noise_dim: int, shape: int | Sequence[int], hidden: Sequence[int],
                 activation: str = "relu") -> None:
        self.shape = _as_shape(shape)
        super().__init__(members, noise_dim, hidden, math.prod(self.shape), activation)
        self.noise_dim = noise_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = super().forward(z)
        return out if len(self.shape) == 1 else out.reshape(*out.shape[:2], *self.shape)


class Discriminator(MLP):
    """Returns one logit per input row, ``[members, rows]``; D(x) = sigmoid(logit).

    With PacGAN packing (Lin et al. 2018) each input row holds ``pack`` samples side by side:
    the network is built for the packed shape, and ``pack`` says how many samples a row holds.
    """

    pack = 1

    def __init__(self, members: int, shape: int | Sequence[int], hidden: Sequence[int],
                 activation: str = "relu", spectral_norm: bool = False) -> None:
        super().__init__(members, math.prod(_as_shape(shape)), hidden, 1, activation, spectral_norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.flatten(2)).squeeze(-1)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """The global RNG seeded with ``seed`` inside, restored afterwards: a member's weights are
    drawn as a single run with that seed draws them, neither depending on nor disturbing
    anything outside."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def initialise(seeds: Sequence[int], *networks: MLP) -> None:
    """Give member ``i`` of every network the weights a single run with ``seeds[i]`` gets."""
    for i, seed in enumerate(seeds):
        with seeded(seed):
            for network in networks:
                network.reset_member(i)
