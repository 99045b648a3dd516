"""The fully connected architecture, ``mlp``: stacked weights for a population (the fast path),
plain ``nn.Linear`` layers for the generic one."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from torch import nn

from gankit.core.errors import GankitError
from gankit.nets.layers import ACTIVATIONS, MLP, Discriminator, Generator
from gankit.nets.spec import ARCHITECTURES, Architecture, Role

if TYPE_CHECKING:
    from gankit.config.schema import ModelConfig


def _mlp_widths(model: ModelConfig, shape: tuple[int, ...], role: Role) -> tuple[int, list[int], int]:
    if role == "generator":
        return model.noise_dim, list(model.g_hidden), math.prod(shape)
    return math.prod(shape), list(model.d_hidden), 1


def build_mlp(model: ModelConfig, shape: tuple[int, ...], role: Role, options: Any = None) -> nn.Module:
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


def stacked_mlp(model: ModelConfig, shape: tuple[int, ...], role: Role, members: int,
                options: Any = None) -> MLP:
    if role == "generator":
        return Generator(members, model.noise_dim, shape, model.g_hidden, model.activation)
    return Discriminator(members, shape, model.d_hidden, model.activation, model.spectral_norm)


ARCHITECTURES.register("mlp")(Architecture(
    build_mlp, stacked_mlp,
    description="fully connected layers of widths model.g_hidden / model.d_hidden"))
