"""Architectures by name: each builds one member's generator or discriminator for a data shape.

An architecture is one ``build`` function plus one registration. ``build(model, shape, role, options)``
returns a plain ``nn.Module`` for a single member: a generator maps noise ``[batch, noise_dim]``
to data ``[batch, *shape]``; a discriminator maps ``[batch, *shape]`` to logits ``[batch]`` (or
``[batch, 1]``). :mod:`gankit.nets.population` turns any of them into N independent members. An
architecture may also offer ``stacked``, a population module built directly with stacked
weights (faster for small networks); it must initialise member i exactly as ``build`` would.

Options beyond the common ``[model]`` keys go in ``model.options`` and are checked against the
architecture's ``options`` dataclass (unknown keys are refused with a did-you-mean).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from torch import nn

from gankit.core.errors import GankitError, did_you_mean
from gankit.core.registry import Registry

if TYPE_CHECKING:
    from gankit.config.schema import ModelConfig

Role = Literal["generator", "discriminator"]
PATHS = ("auto", "stacked", "vmap")  # model.population: how members are stacked (gankit.nets.population)


@dataclass
class NoOptions:
    """An architecture that has no options beyond the common ``[model]`` keys."""


# build(model, shape, role, options) -> one member; stacked(model, shape, role, members, options)
# -> a population module. ``options`` is the architecture's options dataclass, already parsed.
Build = Callable[["ModelConfig", tuple[int, ...], "Role", Any], nn.Module]
BuildStacked = Callable[["ModelConfig", tuple[int, ...], "Role", int, Any], nn.Module]


@dataclass(frozen=True)
class Architecture:
    build: Build
    stacked: BuildStacked | None = None
    options: type = NoOptions
    description: str = ""

    def parse_options(self, values: dict[str, Any], name: str) -> Any:
        """The ``model.options`` table as this architecture's options dataclass."""
        # A field with metadata "set_by" is gankit's (e.g. the condition width), not the user's.
        fields = {f.name for f in dataclasses.fields(self.options) if "set_by" not in f.metadata}
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


def packed_shape(shape: tuple[int, ...], pack: int) -> tuple[int, ...]:
    """The shape D sees with PacGAN packing: ``pack`` samples side by side on the first axis."""
    return (shape[0] * pack, *shape[1:])


def pack_rows(x: Any, m: int) -> Any:
    """``[members, batch, d0, ...]`` -> ``[members, batch / m, m * d0, ...]``: PacGAN's packed rows."""
    members, batch, first, *rest = x.shape
    return x.reshape(members, batch // m, m * first, *rest)
