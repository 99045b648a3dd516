"""The convolutional architecture, ``dcgan``, for square images."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from gankit.core.errors import GankitError
from gankit.nets.spec import ARCHITECTURES, Architecture, Role

if TYPE_CHECKING:
    from gankit.config.schema import ModelConfig


@dataclass
class DCGANOptions:
    """``width``: channels of the full-resolution layer (doubled at each halving of the size);
    ``g_norm`` / ``d_norm``: "layer" (GroupNorm with one group: per-sample statistics over
    channels and pixels) or "none"; ``g_norm`` also "conditional" (a conditioned run: the
    GroupNorm's scale and shift come from the class, :class:`ConditionalNorm`). BatchNorm is not
    offered: its running statistics are updated in place, which the vmap population path cannot
    do, and its batch statistics would couple the rows a gradient penalty differentiates."""

    width: int = 32
    g_norm: str = "layer"
    d_norm: str = "none"
    # A class-conditional D by projection (Miyato & Koyama 2018): logit = psi(phi(x)) + <embed(y),
    # phi(x)>, instead of convolving the class planes with the image (false, or model.pack > 1).
    projection: bool = True
    # The width of the task's condition vector (planes after the image's channels).
    conditions: int = field(default=0, metadata={"set_by": "gankit.nets.population.build_networks"})

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and self.width > 0):
            raise ValueError(f"width must be a positive whole number, got {self.width!r}")
        if self.g_norm not in ("layer", "none", "conditional"):
            raise ValueError(f"g_norm must be 'layer', 'none' or 'conditional', got {self.g_norm!r}")
        if self.d_norm not in ("layer", "none"):
            raise ValueError(f"d_norm must be 'layer' or 'none', got {self.d_norm!r}")


def _dcgan_levels(shape: tuple[int, ...]) -> int:
    """Halvings from the image size down to 4x4: 8 -> 1, 16 -> 2, 32 -> 3, ..."""
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < 8 or shape[1] & (shape[1] - 1):
        raise GankitError(f"architecture 'dcgan' takes square images of a power-of-two size of 8 or "
                          f"more, shape (channels, size, size); this data has shape {shape}")
    return int(math.log2(shape[1])) - 2


def _norm(kind: str, channels: int) -> nn.Module:
    return nn.GroupNorm(1, channels) if kind == "layer" else nn.Identity()


def build_dcgan(model: ModelConfig, shape: tuple[int, ...], role: Role, options: DCGANOptions
                ) -> nn.Module:
    """Radford et al. 2016's shape, without BatchNorm: G maps z by a linear layer to a 4x4 map
    and doubles it with 4x4 stride-2 transposed convolutions (halving the channels each time)
    up to the image size, then a 3x3 convolution to the image channels (tanh is the task's
    output head); D mirrors it with strided convolutions and LeakyReLU(0.2) down to 4x4, then a
    linear layer to one logit."""
    if model.spectral_norm:
        raise GankitError("model.spectral_norm is implemented in the stacked MLP only; architecture "
                          "'dcgan' has none (its power iteration would update buffers under vmap)")
    levels = _dcgan_levels(shape)
    channels = [options.width * 2**i for i in range(levels + 1)]  # at size 4 * 2^(levels - i)
    if role == "generator" and options.g_norm == "conditional":
        if not options.conditions:
            raise GankitError('model.options.g_norm = "conditional" takes its scale and shift from the '
                              'condition, and this run has none: set data.condition (e.g. ["class"]) or '
                              'g_norm = "layer"')
        return ConditionalNormGenerator(model.noise_dim - options.conditions, options.conditions,
                                        channels, shape[0])
    if role == "generator":
        top = channels[-1]
        layers: list[nn.Module] = [nn.Linear(model.noise_dim, top * 16), nn.Unflatten(1, (top, 4, 4)),
                                   _norm(options.g_norm, top), nn.ReLU()]
        for c_in, c_out in zip(channels[::-1][:-1], channels[::-1][1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), _norm(options.g_norm, c_out), nn.ReLU()]
        layers.append(nn.Conv2d(channels[0], shape[0], 3, padding=1))
        return nn.Sequential(*layers)
    # A packed D's input interleaves images and planes: it convolves them (concatenation).
    projected = options.projection and options.conditions > 0 and model.pack == 1
    image_channels = shape[0] - options.conditions if projected else shape[0]
    layers = [nn.Conv2d(image_channels, channels[0], 3, padding=1), nn.LeakyReLU(0.2)]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), _norm(options.d_norm, c_out), nn.LeakyReLU(0.2)]
    if projected:
        body = nn.Sequential(*layers, nn.Flatten())
        return ProjectionDiscriminator(body, channels[-1] * 16, image_channels, options.conditions)
    layers += [nn.Flatten(), nn.Linear(channels[-1] * 16, 1)]
    return nn.Sequential(*layers)


class ProjectionDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <V y, phi(x)> for images followed by one-hot class planes: the
    class enters by an inner product with the image's features rather than as input channels."""

    def __init__(self, body: nn.Module, features: int, channels: int, classes: int) -> None:
        super().__init__()
        self.body, self.channels = body, channels
        self.head = nn.Linear(features, 1)
        self.embed = nn.Linear(classes, features, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.body(x[:, :self.channels])
        y = x[:, self.channels:, 0, 0]
        return self.head(h) + (self.embed(y) * h).sum(dim=1, keepdim=True)


class ConditionalNorm(nn.Module):
    """GroupNorm with one group and no affine parameters of its own, scaled by ``1 + W_s c`` and
    shifted by ``W_b c`` for the condition ``c``: conditional batch norm (de Vries et al. 2017;
    with a projection D in Miyato & Koyama 2018) on per-sample statistics. For a one-hot class
    the columns of ``W_s`` and ``W_b`` are each class's own scale and shift."""

    def __init__(self, channels: int, conditions: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(1, channels, affine=False)
        self.scale = nn.Linear(conditions, channels, bias=False)
        self.shift = nn.Linear(conditions, channels, bias=False)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.norm(h) * (1 + self.scale(c))[:, :, None, None] + self.shift(c)[:, :, None, None]


class ConditionalNormGenerator(nn.Module):
    """The dcgan G with ``g_norm = "conditional"``: it reads ``z`` followed by ``c``, as every
    conditioned G does, and splits them: ``z`` goes through the layers, ``c`` sets every
    normalisation's scale and shift (the class enters there only)."""

    def __init__(self, noise: int, conditions: int, channels: list[int], out_channels: int) -> None:
        super().__init__()
        self.noise = noise
        top = channels[-1]
        self.stem = nn.Linear(noise, top * 16)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1)
                                 for c_in, c_out in zip(channels[::-1][:-1], channels[::-1][1:]))
        self.norms = nn.ModuleList(ConditionalNorm(c, conditions) for c in channels[::-1])
        self.out = nn.Conv2d(channels[0], out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z, c = x[:, :self.noise], x[:, self.noise:]
        h = torch.relu(self.norms[0](self.stem(z).unflatten(1, (-1, 4, 4)), c))
        for up, norm in zip(self.ups, self.norms[1:]):
            h = torch.relu(norm(up(h), c))
        return self.out(h)


ARCHITECTURES.register("dcgan")(Architecture(
    build_dcgan, options=DCGANOptions,
    description="convolutional G and D for square images (sizes 8, 16, 32, ...), widths from "
                "model.options.width (model.g_hidden, d_hidden and activation do not apply)"))
