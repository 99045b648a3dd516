"""N independent members of any architecture, behind one module the training loop uses.

Every population module takes and returns tensors with the member dimension first: a generator
maps ``[members, batch, noise_dim]`` to ``[members, batch, *shape]``, a discriminator maps
``[members, batch, *shape]`` to logits ``[members, batch]``. Two paths build one:

- ``stacked``: the architecture's own population module (stacked weights, one batched product
  per layer; the MLP has one and it is the fast path);
- ``vmap``: any single-member module, N copies with their parameters stacked by
  ``torch.func.stack_module_state`` and run with ``torch.func.functional_call`` under
  ``torch.vmap``. Modules must be pure functions of their parameters and buffers (no batch
  statistics updated in place, no spectral-norm power iteration).

Member i of either path is initialised as a single run with seed ``seeds[i]``: the global RNG is
seeded per member, then G and D are built (or reset) in that order, and the RNG is restored.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from gankit.core.errors import GankitError
from gankit.nets.acgan import ClassifierDiscriminator, WithClassHead, check_acgan
from gankit.nets.layers import StackedLinear, seeded
from gankit.nets.spec import ARCHITECTURES, PATHS, Architecture, Role, packed_shape

if TYPE_CHECKING:
    from gankit.config.schema import ModelConfig


class VmapPopulation(nn.Module):
    """``members`` copies of one module, their parameters stacked along a first dimension."""

    def __init__(self, modules: Sequence[nn.Module], role: Role) -> None:
        super().__init__()
        params, buffers = stack_module_state(list(modules))
        self.members = len(modules)
        self.role = role
        self._names = list(params)
        self._buffer_names = list(buffers)
        for name, value in params.items():
            self.register_parameter(_key(name), nn.Parameter(value.detach().clone()))
        for name, value in buffers.items():
            self.register_buffer(_key(name), value.clone())
        # The skeleton only lends its forward(); kept outside the module tree so that its own
        # (meta) tensors are neither parameters nor saved.
        self.__dict__["_skeleton"] = copy.deepcopy(modules[0]).to("meta")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        params = {name: getattr(self, _key(name)) for name in self._names}
        buffers = {name: getattr(self, _key(name)) for name in self._buffer_names}
        skeleton = self.__dict__["_skeleton"]

        def one(p: dict[str, torch.Tensor], b: dict[str, torch.Tensor], xi: torch.Tensor) -> torch.Tensor:
            return functional_call(skeleton, (p, b), (xi,))

        out = torch.vmap(one)(params, buffers, x)
        # one logit per row -> [members, rows]; a D with a class head keeps its [.., 1 + classes]
        one_logit = self.role == "discriminator" and math.prod(out.shape[2:]) == 1
        return out.reshape(out.shape[:2]) if one_logit else out

    @property
    def mixes_rows(self) -> bool:
        return mixes_rows(self.__dict__["_skeleton"])  # the members' layers live in the skeleton

    def __deepcopy__(self, memo: dict) -> VmapPopulation:
        clone = VmapPopulation.__new__(VmapPopulation)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            clone.__dict__[key] = copy.deepcopy(value, memo)
        return clone


def mixes_rows(network: nn.Module) -> bool:
    """Whether a row of the network's output depends on the other rows of its batch (batch
    statistics, as in PacGAN's G): such a network must see a batch whole, not in slices."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) or getattr(m, "mixes_rows", False)
               for m in network.modules())


def _key(name: str) -> str:
    return name.replace(".", "__")


def choose_path(model: ModelConfig, architecture: Architecture) -> str:
    if model.population not in PATHS:
        raise GankitError(f"model.population must be one of {', '.join(PATHS)}, got '{model.population}'")
    if model.population == "stacked" and architecture.stacked is None:
        raise GankitError(f"architecture '{model.arch}' has no stacked path; use model.population = "
                          "\"auto\" or \"vmap\"")
    if model.population == "auto":
        return "stacked" if architecture.stacked is not None else "vmap"
    return model.population


def build_networks(model: ModelConfig, shape: tuple[int, ...], seeds: Sequence[int],
                   pad_lone_member: bool = False, condition_width: int = 0,
                   condition_is_class: bool = False) -> tuple[nn.Module, nn.Module]:
    """A generator and a discriminator population, member i initialised with ``seeds[i]``.

    ``pad_lone_member``: a torchrun rank that holds one member of a population computes it as
    the population does (see :class:`gankit.nets.layers.StackedLinear`). ``condition_width``:
    the width of a condition vector ``c`` (a conditional task's, :attr:`gankit.tasks.Task.condition_width`)
    that G reads after its noise and D after each data point (a row's values, or an image's
    channels, as constant planes): a conditional GAN by concatenation (Mirza & Osindero 2014).
    An architecture whose options have a ``conditions`` field is told the width there (the
    ``dcgan`` projection discriminator reads the planes back as a class; its conditional
    normalisation in G takes scale and shift from it). With ``model.acgan > 0`` (and
    ``condition_is_class``: ``c`` is the one-hot of a class) D is an ACGAN discriminator
    (:mod:`gankit.nets.acgan`): it judges the point alone and a class head names its class."""
    architecture = ARCHITECTURES.get(model.arch)
    options = architecture.parse_options(model.options, model.arch)
    acgan = model.acgan > 0
    if acgan:
        check_acgan(condition_width, condition_is_class, model.pack, model.options)
    options_d = options
    if condition_width:  # c joins D's first axis: after a row's values, or planes after the channels
        shape_d = (shape[0] + condition_width, *shape[1:])
        model_g = dataclasses.replace(model, noise_dim=model.noise_dim + condition_width)
        if any(f.name == "conditions" for f in dataclasses.fields(options)):
            options = dataclasses.replace(options, conditions=condition_width)
        if not acgan:
            options_d = options
    else:
        shape_d, model_g = shape, model
    # ACGAN's D reads the point alone: the class after it is its head's target
    d_shape = packed_shape(shape if acgan else shape_d, model.pack)
    generator: nn.Module
    discriminator: nn.Module
    if choose_path(model, architecture) == "stacked":
        assert architecture.stacked is not None
        generator = architecture.stacked(model_g, shape, "generator", len(seeds), options)
        discriminator = architecture.stacked(model, d_shape, "discriminator", len(seeds), options_d)
        if acgan:
            discriminator = WithClassHead(discriminator, condition_width, model.arch)
        for i, seed in enumerate(seeds):
            with seeded(seed):
                generator.reset_member(i)  # type: ignore[operator]
                discriminator.reset_member(i)  # type: ignore[operator]
    else:
        gs, ds = [], []
        for seed in seeds:
            with seeded(seed):
                gs.append(architecture.build(model_g, shape, "generator", options))
                d = architecture.build(model, d_shape, "discriminator", options_d)
                ds.append(WithClassHead(d, condition_width, model.arch) if acgan else d)
        generator, discriminator = VmapPopulation(gs, "generator"), VmapPopulation(ds, "discriminator")
    if acgan:
        discriminator = ClassifierDiscriminator(discriminator, shape[0], condition_width, model.acgan)
    discriminator.pack = model.pack  # read by figures that feed D packed rows
    if pad_lone_member:
        for layer in (m for net in (generator, discriminator) for m in net.modules()):
            if isinstance(layer, StackedLinear):
                layer.as_in_a_population = True
    return generator, discriminator
