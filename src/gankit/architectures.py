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


def _register_pacgan() -> None:
    from gankit.pacgan import PacganOptions, build_pacgan, stacked_pacgan

    ARCHITECTURES.register("pacgan_mlp")(Architecture(
        build_pacgan, stacked_pacgan, PacganOptions,  # type: ignore[arg-type]
        description="PacGAN's 2-D networks: G with batch norm (batch statistics only), D of maxout "
                    "layers (model.options.maxout_pieces)"))


_register_pacgan()
