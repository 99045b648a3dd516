"""Architectures by name: each builds one member's generator or discriminator for a data shape.

An architecture is one ``build`` function plus one registration. ``build(model, shape, role)``
returns a plain ``nn.Module`` for a single member: a generator maps noise ``[batch, noise_dim]``
to data ``[batch, *shape]``; a discriminator maps ``[batch, *shape]`` to logits ``[batch]`` (or
``[batch, 1]``). :mod:`gankit.population` turns any of them into N independent members. An
architecture may also offer ``stacked``, a population module built directly with stacked
weights (faster for small networks); it must initialise member i exactly as ``build`` would.

Options beyond the common ``[model]`` keys go in ``model.options`` and are checked against the
architecture's ``options`` dataclass (unknown keys are refused with a did-you-mean).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from torch import nn

from gankit.errors import GankitError, did_you_mean
from gankit.models import ACTIVATIONS, MLP, Discriminator, Generator
from gankit.registry import Registry

if TYPE_CHECKING:
    from gankit.config import ModelConfig

Role = Literal["generator", "discriminator"]


@dataclass
class NoOptions:
    """An architecture that has no options beyond the common ``[model]`` keys."""


@dataclass(frozen=True)
class Architecture:
    build: Callable[[ModelConfig, tuple[int, ...], Role], nn.Module]
    stacked: Callable[[ModelConfig, tuple[int, ...], Role, int], MLP] | None = None
    options: type = NoOptions
    description: str = ""

    def parse_options(self, values: dict[str, Any], name: str) -> Any:
        """The ``model.options`` table as this architecture's options dataclass."""
        fields = {f.name for f in dataclasses.fields(self.options)}
        for key in values:
            if key not in fields:
                accepted = ", ".join(sorted(fields)) or "none"
                raise GankitError(f"unknown option model.options.{key} for architecture '{name}'"
                                  f"{did_you_mean(key, fields)}; accepted: {accepted}")
        try:
            return self.options(**values)
        except (TypeError, ValueError) as exc:
            raise GankitError(f"model.options for architecture '{name}': {exc}") from None


ARCHITECTURES: Registry[Architecture] = Registry("architecture")


def _mlp_widths(model: ModelConfig, shape: tuple[int, ...], role: Role) -> tuple[int, list[int], int]:
    if role == "generator":
        return model.noise_dim, list(model.g_hidden), math.prod(shape)
    return math.prod(shape), list(model.d_hidden), 1


def build_mlp(model: ModelConfig, shape: tuple[int, ...], role: Role) -> nn.Module:
    """One member as plain ``nn.Linear`` layers (the generic path; no spectral norm there)."""
    if model.spectral_norm:
        raise GankitError("model.spectral_norm is implemented in the stacked MLP only; "
                          "use model.population = \"auto\" or \"stacked\"")
    n_in, hidden, n_out = _mlp_widths(model, shape, role)
    widths = [n_in, *hidden, n_out]
    layers: list[nn.Module] = [] if role == "generator" else [nn.Flatten()]
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS.get(model.activation)())
    if role == "generator" and len(shape) > 1:
        layers.append(nn.Unflatten(1, shape))
    return nn.Sequential(*layers)


def stacked_mlp(model: ModelConfig, shape: tuple[int, ...], role: Role, members: int) -> MLP:
    if role == "generator":
        return Generator(members, model.noise_dim, shape, model.g_hidden, model.activation)
    return Discriminator(members, shape, model.d_hidden, model.activation, model.spectral_norm)


ARCHITECTURES.register("mlp")(Architecture(
    build_mlp, stacked_mlp,
    description="fully connected layers of widths model.g_hidden / model.d_hidden"))


@dataclass
class DCGANOptions:
    """``width``: channels of the full-resolution layer (doubled at each halving of the size);
    ``g_norm`` / ``d_norm``: "layer" (GroupNorm with one group: per-sample statistics over
    channels and pixels) or "none". BatchNorm is not offered: its running statistics are
    updated in place, which the vmap population path cannot do, and its batch statistics would
    couple the rows a gradient penalty differentiates."""

    width: int = 32
    g_norm: str = "layer"
    d_norm: str = "none"

    def __post_init__(self) -> None:
        if not (isinstance(self.width, int) and self.width > 0):
            raise ValueError(f"width must be a positive whole number, got {self.width!r}")
        for key in ("g_norm", "d_norm"):
            if getattr(self, key) not in ("layer", "none"):
                raise ValueError(f"{key} must be 'layer' or 'none', got {getattr(self, key)!r}")


def _dcgan_levels(shape: tuple[int, ...]) -> int:
    """Halvings from the image size down to 4x4: 8 -> 1, 16 -> 2, 32 -> 3, ..."""
    if len(shape) != 3 or shape[1] != shape[2] or shape[1] < 8 or shape[1] & (shape[1] - 1):
        raise GankitError(f"architecture 'dcgan' takes square images of a power-of-two size of 8 or "
                          f"more, shape (channels, size, size); this data has shape {shape}")
    return int(math.log2(shape[1])) - 2


def _norm(kind: str, channels: int) -> nn.Module:
    return nn.GroupNorm(1, channels) if kind == "layer" else nn.Identity()


def build_dcgan(model: ModelConfig, shape: tuple[int, ...], role: Role) -> nn.Module:
    """Radford et al. 2016's shape, without BatchNorm: G maps z by a linear layer to a 4x4 map
    and doubles it with 4x4 stride-2 transposed convolutions (halving the channels each time)
    up to the image size, then a 3x3 convolution to the image channels (tanh is the task's
    output head); D mirrors it with strided convolutions and LeakyReLU(0.2) down to 4x4, then a
    linear layer to one logit."""
    if model.spectral_norm:
        raise GankitError("model.spectral_norm is implemented in the stacked MLP only; architecture "
                          "'dcgan' has none (its power iteration would update buffers under vmap)")
    options = ARCHITECTURES.get("dcgan").parse_options(model.options, "dcgan")
    levels = _dcgan_levels(shape)
    channels = [options.width * 2**i for i in range(levels + 1)]  # at size 4 * 2^(levels - i)
    if role == "generator":
        top = channels[-1]
        layers: list[nn.Module] = [nn.Linear(model.noise_dim, top * 16), nn.Unflatten(1, (top, 4, 4)),
                                   _norm(options.g_norm, top), nn.ReLU()]
        for c_in, c_out in zip(channels[::-1][:-1], channels[::-1][1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), _norm(options.g_norm, c_out), nn.ReLU()]
        layers.append(nn.Conv2d(channels[0], shape[0], 3, padding=1))
        return nn.Sequential(*layers)
    layers = [nn.Conv2d(shape[0], channels[0], 3, padding=1), nn.LeakyReLU(0.2)]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), _norm(options.d_norm, c_out), nn.LeakyReLU(0.2)]
    layers += [nn.Flatten(), nn.Linear(channels[-1] * 16, 1)]
    return nn.Sequential(*layers)


ARCHITECTURES.register("dcgan")(Architecture(
    build_dcgan, options=DCGANOptions,
    description="convolutional G and D for square images (sizes 8, 16, 32, ...), widths from "
                "model.options.width (model.g_hidden, d_hidden and activation do not apply)"))


def _register_pacgan() -> None:
    from gankit.pacgan import PacganOptions, build_pacgan, stacked_pacgan

    ARCHITECTURES.register("pacgan_mlp")(Architecture(
        build_pacgan, stacked_pacgan, PacganOptions,  # type: ignore[arg-type]
        description="PacGAN's 2-D networks: G with batch norm (batch statistics only), D of maxout "
                    "layers (model.options.maxout_pieces)"))


_register_pacgan()
