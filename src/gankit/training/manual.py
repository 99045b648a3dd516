"""The stacked MLP's backward pass written out by hand: a faster step, the same numbers.

For the plain MLP (no spectral norm, no penalty that needs a gradient of a gradient, no output
head, no mixed precision; conditions only concatenated after a flat point, see
:meth:`ManualPath.takes_conditions`) autograd's bookkeeping costs more than the arithmetic: each
of a step's few dozen small kernels goes through a graph node. Here the forward pass keeps what
the backward needs and the backward calls the very kernels autograd's formulas call
(``derivatives.yaml``: ``baddbmm``, ``threshold_backward``, ``elu_backward``, ...) in the same
order, so the gradients are bit for bit those of :func:`gankit.training.optim.flat_grad`
(``tests/unit/test_manual.py``; with conditions too: G's gradient takes the point's part of D's
input gradient, the very view ``cat``'s backward passes on). The gradient of the loss with
respect to the logits comes from the formulas of :mod:`gankit.training.logit_grads` (again
autograd's bits), else from autograd on the logits alone. ``benchmarks/seed_speed.py`` times
this path against autograd's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from gankit.nets.layers import MLP, Discriminator, Generator, StackedLinear
from gankit.nets.spec import pack_rows
from gankit.objectives import Objective
from gankit.tasks import Task
from gankit.tasks.conditions import Conditions
from gankit.training.logit_grads import LOGIT_GRADIENTS
from gankit.training.steps import DStep, GStep

aten = torch.ops.aten

# Each supported activation: (forward, backward(grad, pre-activation, output)), the backward
# being the formula autograd applies to that forward.
Backward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _activation(module: nn.Module) -> tuple[Callable[[torch.Tensor], torch.Tensor], Backward] | None:
    if type(module) is nn.ReLU:
        return torch.relu, lambda g, z, h: aten.threshold_backward(grad_output=g, self=h, threshold=0)
    if type(module) is nn.ELU and module.alpha == 1.0:
        return module.forward, lambda g, z, h: aten.elu_backward(
            grad_output=g, alpha=1.0, scale=1, input_scale=1, is_result=False, self_or_result=z)
    if type(module) is nn.LeakyReLU:
        slope = module.negative_slope
        return module.forward, lambda g, z, h: aten.leaky_relu_backward(
            grad_output=g, self=z, negative_slope=slope, self_is_result=False)
    if type(module) is nn.SiLU:
        return module.forward, lambda g, z, h: aten.silu_backward(grad_output=g, self=z)
    if type(module) is nn.Tanh:
        return torch.tanh, lambda g, z, h: aten.tanh_backward(grad_output=g, output=h)
    if type(module) is nn.GELU:
        approximate = module.approximate
        return module.forward, lambda g, z, h: aten.gelu_backward(
            grad_output=g, self=z, approximate=approximate)
    return None


@dataclass
class _Layer:
    linear: StackedLinear
    activation: tuple[Callable[[torch.Tensor], torch.Tensor], Backward] | None


class ManualMLP:
    """Forward and backward of one stacked :class:`~gankit.nets.layers.MLP` without autograd."""

    def __init__(self, network: MLP) -> None:
        modules = list(network)
        self.layers: list[_Layer] = []
        for i, module in enumerate(modules):
            if isinstance(module, StackedLinear):
                following = modules[i + 1] if i + 1 < len(modules) else None
                activation = _activation(following) if following is not None else None
                self.layers.append(_Layer(module, activation))
        # where each layer's gradients go in the flat gradient: flatten_parameters' order, which
        # is the module's (layer 0's weight, its bias, layer 1's weight, ...)
        self.slices: list[tuple[slice, slice]] = []
        offset = 0
        for layer in self.layers:
            n_weight, n_bias = layer.linear.weight.numel(), layer.linear.bias.numel()
            self.slices.append((slice(offset, offset + n_weight),
                                slice(offset + n_weight, offset + n_weight + n_bias)))
            offset += n_weight + n_bias
        self.size = offset
        if offset != sum(p.numel() for p in network.parameters()):
            raise ValueError("the network holds parameters outside its linear layers")

    @staticmethod
    def supports(network: nn.Module) -> bool:
        # By exact type: a subclass (an auxiliary classifier head, ...) computes more than this
        # backward knows, however plain its layers look.
        if type(network) not in (Generator, Discriminator):
            return False
        modules = list(network)
        for i, module in enumerate(modules):
            if isinstance(module, StackedLinear):
                if module.spectral_norm or module.as_in_a_population:
                    return False
                if i + 1 < len(modules) and (isinstance(modules[i + 1], StackedLinear)
                                             or _activation(modules[i + 1]) is None):
                    return False
            elif i == 0 or not isinstance(modules[i - 1], StackedLinear):
                return False  # two activations in a row, or one first: not an MLP of ours
        return True

    def forward(self, x: torch.Tensor, members: slice | None = None
                ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, ...]]]:
        """``[members, rows, in]`` -> (output ``[members, rows, out]``, what the backward needs);
        ``members``: the slice of the population's members that ``x`` belongs to (all if None)."""
        saved = []
        for layer in self.layers:
            lin = layer.linear
            weight, bias = lin.weight, lin.bias
            if members is not None:
                weight, bias = weight[members], bias[members]
            z = torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))
            if layer.activation is None:
                saved.append((x, z, z))
                x = z
            else:
                h = layer.activation[0](z)
                saved.append((x, z, h))
                x = h
        return x, saved

    def backward(self, grad: torch.Tensor, saved: list[tuple[torch.Tensor, ...]], weights: bool = True,
                 inputs: bool = False, members: slice | None = None, flat: torch.Tensor | None = None
                 ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(flat gradient of the parameters or None, gradient of the input or None) from
        ``grad``, the gradient of the output. With ``members`` (a slice of the population), the
        gradient of those members is written into their entries of ``flat``."""
        if weights and flat is None:
            flat = torch.empty(self.size, dtype=grad.dtype, device=grad.device)
        for index in range(len(self.layers) - 1, -1, -1):
            layer, (x, z, h) = self.layers[index], saved[index]
            if layer.activation is not None:
                grad = layer.activation[1](grad, z, h)
            if weights and flat is not None:
                # baddbmm's formulas: batch2 = W^T gets x^T grad; the bias, broadcast over the
                # rows, gets their sum. Written straight into the flat gradient's slices.
                weight, bias = self.slices[index]
                full = layer.linear.weight
                weight_grad = flat[weight].view_as(full)
                bias_grad = flat[bias].view(full.shape[0], 1, -1)
                if members is not None:
                    weight_grad, bias_grad = weight_grad[members], bias_grad[members]
                weight_grad.copy_(x.transpose(1, 2).bmm(grad).transpose(1, 2))
                torch.sum(grad, 1, keepdim=True, out=bias_grad)
            if index > 0 or inputs:
                weight = layer.linear.weight if members is None else layer.linear.weight[members]
                # A one-output layer's product has a single term per entry: the broadcast
                # product gives the same bits without a batched matrix kernel.
                grad = grad * weight if weight.shape[1] == 1 else grad.bmm(weight)
        return flat, grad if inputs else None


class ManualPath:
    """The step's two gradients for a plain-MLP GAN, computed by :class:`ManualMLP`; an
    implementation of :class:`gankit.training.gradients.GradientPath`."""

    name = "hand-written"

    def __init__(self, generator: Generator, discriminator: Discriminator, objective: Objective,
                 pack: int, condition_width: int = 0) -> None:
        self.g, self.d = ManualMLP(generator), ManualMLP(discriminator)
        self.shape = generator.shape
        self.objective = objective
        self.pack = pack
        # a conditional task's c: the last values of G's input, and of D's after G's point
        self.condition_width = condition_width
        if condition_width and len(self.shape) != 1:
            raise ValueError("conditions on the hand-written path follow a flat point")
        self.d_grad, self.g_grad = LOGIT_GRADIENTS.get(objective.name, (None, None))

    @staticmethod
    def supports(generator: nn.Module, discriminator: nn.Module) -> bool:
        return ManualMLP.supports(generator) and ManualMLP.supports(discriminator)

    @staticmethod
    def takes_conditions(task: Task) -> bool:
        """Whether what D reads of a generated point is G's output followed by the conditions at
        the end of G's input, and nothing else: an unconditional task, or one that attaches its
        conditions as :class:`~gankit.tasks.conditions.Conditions` does after a flat point (the
        curves' a, the mixtures' mode). Not hard conditions (a table's, which change the point)
        nor planes after an image's channels: those keep autograd."""
        if not task.condition_width:
            return True
        return type(task).attach_conditions is Conditions.attach_conditions and len(task.shape) == 1

    @torch.no_grad()
    def d_step(self, real: torch.Tensor, fake: torch.Tensor, members: slice | None = None,
               flat: torch.Tensor | None = None) -> DStep:
        """D's loss per member, the logits and the flat gradient of D's parameters; with
        ``members``, those of a slice of the population, their gradient written into ``flat``."""
        objective = self.objective
        out, saved = self.d.forward(torch.cat([real, fake], dim=1).flatten(2), members)
        rows = real.shape[1]
        logits = out.squeeze(-1)
        real_logits, fake_logits = logits[:, :rows], logits[:, rows:]
        loss = objective.d_loss(real_logits, fake_logits)
        if self.d_grad is not None:
            grad = torch.cat(self.d_grad(real_logits, fake_logits), dim=1)
        else:
            grad = _logit_grad(lambda x: objective.d_loss(x[:, :rows], x[:, rows:]), logits)
        flat, _ = self.d.backward(grad.unsqueeze(-1), saved, members=members, flat=flat)
        return DStep(loss, real_logits, fake_logits, {}, flat)  # type: ignore[arg-type]

    @torch.no_grad()
    def g_step(self, z: torch.Tensor, real: torch.Tensor, members: slice | None = None,
               flat: torch.Tensor | None = None) -> GStep:
        """G's loss per member and the flat gradient of G's parameters; ``real`` is read only
        when the objective's G loss needs D's real logits. ``members``/``flat`` as in d_step."""
        objective = self.objective
        out, g_saved = self.g.forward(z, members)
        point, width = out.reshape(*out.shape[:2], *self.shape), self.condition_width
        if width:  # Conditions.attach_conditions: G's point followed by the c at the end of z
            point = torch.cat([point, z[..., z.shape[-1] - width:]], dim=-1)
        fake = pack_rows(point, self.pack)
        d_out, d_saved = self.d.forward(fake.flatten(2), members)
        logits = d_out.squeeze(-1)
        real_logits = (self.d.forward(real.flatten(2), members)[0].squeeze(-1) if objective.g_needs_real
                       else None)
        loss = objective.g_loss(logits, real_logits)
        if self.g_grad is not None:
            grad = self.g_grad(logits, real_logits)
        else:
            grad = _logit_grad(lambda x: objective.g_loss(x, real_logits), logits)
        _, grad_fake = self.d.backward(grad.unsqueeze(-1), d_saved, weights=False, inputs=True,
                                       members=members)
        grad_point = grad_fake.reshape(point.shape)  # type: ignore[union-attr]
        if width:  # c is data, not G's: G gets the point's part, the view cat's backward takes
            grad_point = grad_point[..., :point.shape[-1] - width]
        flat, _ = self.g.backward(grad_point.reshape(out.shape), g_saved, members=members, flat=flat)
        return GStep(loss, flat)  # type: ignore[arg-type]


def _logit_grad(loss: Callable[[torch.Tensor], torch.Tensor], logits: torch.Tensor) -> torch.Tensor:
    """d sum(loss(logits)) / d logits by autograd, for objectives that give no formula."""
    leaf = logits.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(loss(leaf).sum(), leaf)
    return grad
