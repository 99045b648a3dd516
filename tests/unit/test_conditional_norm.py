"""Conditional normalisation in dcgan's G (model.options.g_norm = "conditional"): the scale and
shift by hand, no affine parameters of the norm's own, G's output following the class asked
for, members equal to single runs, bit-exact resume, and the refusals."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gankit.config import ModelConfig
from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.nets import ARCHITECTURES, build_networks
from gankit.nets.dcgan import ConditionalNorm, ConditionalNormGenerator
from gankit.training.trainer import Trainer
from helpers import assert_second_member_is_single_run

DIGITS = {"data": {"condition": ["class"]}, "model": {"options": {"width": 4, "g_norm": "conditional"}},
          "train": {"batch_size": 8}}


def _trainer(*overrides: dict) -> Trainer:
    return Trainer.from_config(resolve_config("digits", overrides=list(overrides)))


def test_the_norm_scales_and_shifts_by_the_class_by_hand():
    torch.manual_seed(0)
    norm = ConditionalNorm(channels=3, conditions=2)
    assert not list(norm.norm.parameters())  # no scale or shift of its own
    h = torch.randn(4, 3, 2, 2)
    c = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    scale, shift = norm.scale.weight, norm.shift.weight  # [channels, classes]: each class's column
    mean = h.mean(dim=(1, 2, 3), keepdim=True)
    var = h.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
    normalised = (h - mean) / torch.sqrt(var + 1e-5)
    expected = normalised * (1 + (c @ scale.T))[:, :, None, None] + (c @ shift.T)[:, :, None, None]
    torch.testing.assert_close(norm(h, c), expected)
    torch.testing.assert_close(norm.norm(h), F.group_norm(h, 1))


def test_g_reads_z_then_the_class_and_its_output_follows_the_class():
    trainer = _trainer(DIGITS)
    skeleton = trainer.generator.__dict__["_skeleton"]
    assert isinstance(skeleton, ConditionalNormGenerator)
    norms = [m for m in skeleton.modules() if isinstance(m, nn.GroupNorm)]
    assert norms and all(m.weight is None and m.bias is None for m in norms)
    z = torch.randn(1, 6, trainer.config.model.noise_dim, generator=torch.Generator().manual_seed(0))
    asks = [torch.nn.functional.one_hot(torch.full((1, 6), k), 10).float() for k in (1, 7, 1)]
    with torch.no_grad():
        one, seven, again = (trainer.generator(torch.cat([z, c], dim=-1)) for c in asks)
    assert one.shape[-3:] == (1, 8, 8) and torch.equal(one, again)
    assert (one - seven).abs().mean() > 0.01  # the class changes every image


def test_the_class_weights_receive_gradient_from_g_loss():
    trainer = _trainer(DIGITS)
    g = trainer.gradients.g_step(trainer.streams.noise(8), trainer.streams.real(8))
    offset = 0
    for name, p in trainer.generator.named_parameters():
        if "scale" in name or "shift" in name:
            assert g.grad[offset:offset + p.numel()].abs().sum() > 0, name
        offset += p.numel()


def test_members_equal_single_runs():
    population = _trainer(DIGITS, {"seeds": 2, "seed": 3})
    single = _trainer(DIGITS, {"seed": 4})
    assert_second_member_is_single_run(population, single, 3)


def test_a_run_resumed_from_its_state_continues_bit_exact():
    straight, halted = _trainer(DIGITS), _trainer(DIGITS)
    for _ in range(4):
        straight.step()
    for _ in range(2):
        halted.step()
    resumed = _trainer(DIGITS)
    resumed.load_state_dict(copy.deepcopy(halted.state_dict()))
    for _ in range(2):
        resumed.step()
    for net in ("generator", "discriminator"):
        for p, q in zip(getattr(straight, net).parameters(), getattr(resumed, net).parameters(), strict=True):
            assert torch.equal(p, q), net


def test_an_unconditioned_run_and_a_conditional_d_norm_are_refused_in_one_line():
    model = ModelConfig(arch="dcgan", noise_dim=4, options={"g_norm": "conditional"})
    with pytest.raises(GankitError) as raised:
        build_networks(model, (1, 8, 8), [0])
    assert str(raised.value).startswith('model.options.g_norm = "conditional" takes its scale and shift')
    assert "set data.condition" in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(GankitError, match="d_norm must be 'layer' or 'none', got 'conditional'"):
        ARCHITECTURES.get("dcgan").parse_options({"d_norm": "conditional"}, "dcgan")
