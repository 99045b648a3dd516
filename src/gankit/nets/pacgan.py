"""The networks of PacGAN's 2-D experiments (Lin et al. 2018, after VEEGAN): an MLP generator
with batch normalisation and an MLP discriminator of maxout layers.

Batch normalisation here always uses the statistics of the batch it is given, in training and
in evaluation alike: it keeps no running averages. Running averages would be buffers updated
inside ``forward``, which the ``vmap`` member path cannot do, and a population's averages would
have to be kept per member; with none, a generator is a pure function of its weights and its
batch, and samples drawn in evaluation are normalised as training batches were. The cost:
a sample depends (slightly) on the other points of its batch, and a batch of one point is
degenerate (zero variance), so draw samples in batches of tens or more.

Both a single-member build (``nn.Linear``, ``nn.BatchNorm1d``, :class:`Maxout`) and a stacked
population (one batched product per layer) are given; member i of the stacked one is
initialised exactly as the single build with the same seed, and computes the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from gankit.core.errors import GankitError
from gankit.nets.layers import ACTIVATIONS, StackedLinear
from gankit.nets.spec import ARCHITECTURES, Architecture, Role

if TYPE_CHECKING:
    from gankit.config.schema import ModelConfig

BN_EPS = 1e-5  # nn.BatchNorm1d's default


@dataclass
class PacganOptions:
    """``model.options`` of ``pacgan_mlp``."""

    maxout_pieces: int = 5  # linear pieces per maxout unit of D (PacGAN: 5)
    batch_norm: bool = True  # batch normalisation after each hidden layer of G (PacGAN: yes)

    def __post_init__(self) -> None:
        if not isinstance(self.maxout_pieces, int) or self.maxout_pieces < 1:
            raise ValueError(f"maxout_pieces must be a whole number of at least 1, "
                             f"got {self.maxout_pieces!r}")
        if not isinstance(self.batch_norm, bool):
            raise ValueError(f"batch_norm must be true or false, got {self.batch_norm!r}")


class Maxout(nn.Module):
    """The largest of ``pieces`` consecutive features: ``[..., units * pieces] -> [..., units]``."""

    def __init__(self, pieces: int) -> None:
        super().__init__()
        self.pieces = pieces

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (x.shape[-1] // self.pieces, self.pieces)).amax(-1)


class StackedLinearNoBias(StackedLinear):
    """A stacked linear layer without bias, for a layer that batch norm follows: the norm
    subtracts the batch mean, so a bias there has no effect and a zero gradient, and Adam
    would turn that gradient's rounding noise into steps of full size."""

    def __init__(self, members: int, in_features: int, out_features: int) -> None:
        super().__init__(members, in_features, out_features)
        del self.bias
        self.register_parameter("bias", None)

    def reset_member(self, i: int) -> None:
        reference = nn.Linear(self.in_features, self.out_features, bias=False)
        with torch.no_grad():
            self.weight[i].copy_(reference.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.bmm(x, self.weight.transpose(1, 2))


class StackedBatchNorm(nn.Module):
    """Batch normalisation for ``[members, batch, features]``: each member normalised by its own
    batch's mean and (biased) variance, then scaled and shifted by its own affine weights."""

    mixes_rows = True  # an output row depends on the other rows of its batch (gankit.nets.population)

    def __init__(self, members: int, features: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(members, features))
        self.bias = nn.Parameter(torch.zeros(members, features))

    def reset_member(self, i: int) -> None:
        with torch.no_grad():
            self.weight[i].fill_(1.0)
            self.bias[i].zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = x.var(dim=1, unbiased=False, keepdim=True)
        return (x - mean) * torch.rsqrt(var + BN_EPS) * self.weight[:, None] + self.bias[:, None]


def _no_spectral_norm(model: ModelConfig) -> None:
    if model.spectral_norm:
        raise GankitError("model.spectral_norm is not implemented for architecture 'pacgan_mlp'")


def build_pacgan(model: ModelConfig, shape: tuple[int, ...], role: Role, options: PacganOptions) -> nn.Module:
    """One member: G = [Linear (no bias), BatchNorm, activation] per hidden width, then Linear;
    D = [Linear to width * pieces, Maxout] per hidden width, then Linear to one logit."""
    _no_spectral_norm(model)
    layers: list[nn.Module] = []
    if role == "generator":
        width = model.noise_dim
        for hidden in model.g_hidden:
            layers.append(nn.Linear(width, hidden, bias=not options.batch_norm))
            if options.batch_norm:
                layers.append(nn.BatchNorm1d(hidden, eps=BN_EPS, track_running_stats=False))
            layers.append(ACTIVATIONS.get(model.activation)())
            width = hidden
        layers.append(nn.Linear(width, math.prod(shape)))
        if len(shape) > 1:
            layers.append(nn.Unflatten(1, shape))
        return nn.Sequential(*layers)
    width = math.prod(shape)
    layers.append(nn.Flatten())
    for hidden in model.d_hidden:
        layers += [nn.Linear(width, hidden * options.maxout_pieces), Maxout(options.maxout_pieces)]
        width = hidden
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


class StackedPacgan(nn.Sequential):
    """``members`` copies of :func:`build_pacgan`'s network as stacked weights."""

    def __init__(self, layers: list[nn.Module], members: int, role: Role, shape: tuple[int, ...]) -> None:
        super().__init__(*layers)
        self.members = members
        self.role = role
        self.shape = shape

    def reset_member(self, i: int) -> None:
        """Initialise member ``i`` from the global RNG in the order :func:`build_pacgan` does."""
        for layer in self:
            if isinstance(layer, (StackedLinear, StackedBatchNorm)):
                layer.reset_member(i)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.role == "discriminator":
            return super().forward(x.flatten(2)).squeeze(-1)
        out = super().forward(x)
        return out if len(self.shape) == 1 else out.reshape(*out.shape[:2], *self.shape)


def stacked_pacgan(model: ModelConfig, shape: tuple[int, ...], role: Role, members: int,
                   options: PacganOptions) -> StackedPacgan:
    _no_spectral_norm(model)
    layers: list[nn.Module] = []
    if role == "generator":
        width = model.noise_dim
        for hidden in model.g_hidden:
            if options.batch_norm:
                layers.append(StackedLinearNoBias(members, width, hidden))
                layers.append(StackedBatchNorm(members, hidden))
            else:
                layers.append(StackedLinear(members, width, hidden))
            layers.append(ACTIVATIONS.get(model.activation)())
            width = hidden
        layers.append(StackedLinear(members, width, math.prod(shape)))
    else:
        width = math.prod(shape)
        for hidden in model.d_hidden:
            layers += [StackedLinear(members, width, hidden * options.maxout_pieces),
                       Maxout(options.maxout_pieces)]
            width = hidden
        layers.append(StackedLinear(members, width, 1))
    return StackedPacgan(layers, members, role, shape)


ARCHITECTURES.register("pacgan_mlp")(Architecture(
    build_pacgan, stacked_pacgan, PacganOptions,
    description="PacGAN's 2-D networks: G with batch norm (batch statistics only), D of maxout "
                "layers (model.options.maxout_pieces)"))
