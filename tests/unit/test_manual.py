"""The hand-written MLP backward computes autograd's very bits, and steps aside when it cannot."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gankit.config.resolve import resolve_config
from gankit.nets.layers import ACTIVATIONS
from gankit.objectives import OBJECTIVES
from gankit.training.manual import ManualMLP, ManualPath
from gankit.training.trainer import Trainer


def _pair(preset: str, overrides: dict) -> tuple[Trainer, Trainer]:
    config = resolve_config(preset, overrides=[overrides])
    reference = dataclasses.replace(config, train=dataclasses.replace(config.train, backward="autograd"))
    manual, autograd = Trainer.from_config(config), Trainer.from_config(reference)
    assert manual.gradients.name == "hand-written", "this config should take the hand-written path"
    assert autograd.gradients.name == "autograd"
    return manual, autograd


def _assert_same_run(manual: Trainer, autograd: Trainer, steps: int = 6) -> None:
    for _ in range(steps):
        a, b = manual.step(), autograd.step()
        for name in ("d_loss", "g_loss", "real_logits", "fake_logits"):
            assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert torch.equal(manual.g_flat, autograd.g_flat)
    assert torch.equal(manual.d_flat, autograd.d_flat)


@pytest.mark.parametrize("activation", ACTIVATIONS.names())
def test_every_activation_gives_autograds_bits(activation):
    manual, autograd = _pair("default", {"model": {"activation": activation, "g_hidden": [16, 8],
                                                   "d_hidden": [16, 8]}, "train": {"batch_size": 32}})
    _assert_same_run(manual, autograd)


@pytest.mark.parametrize("loss", [name for name in OBJECTIVES.names() if name != "wasserstein_gp"])
def test_every_objective_without_a_gradient_penalty_gives_autograds_bits(loss):
    manual, autograd = _pair("seed", {"train": {"loss": loss}, "seeds": 2})
    _assert_same_run(manual, autograd)


def test_members_packing_and_several_d_steps_give_autograds_bits():
    manual, autograd = _pair("seed", {"seeds": 3, "model": {"pack": 2}, "train": {"d_steps": 2}})
    _assert_same_run(manual, autograd)


def test_a_two_dimensional_task_gives_autograds_bits():
    manual, autograd = _pair("ring", {"train": {"r1": 0.0}, "seeds": 2})
    _assert_same_run(manual, autograd)


@pytest.mark.parametrize("overrides", [
    {"train": {"r1": 1.0}},  # needs the gradient of D's gradient
    {"train": {"loss": "wasserstein_gp"}},
    {"model": {"spectral_norm": True}},
    {"train": {"amp": "bf16"}},
])
def test_the_autograd_path_is_kept_when_the_step_needs_it(overrides):
    assert Trainer.from_config(resolve_config("seed", overrides=[overrides])).gradients.name == "autograd"


def test_a_task_with_an_output_head_keeps_autograd(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("x,c\n" + "".join(f"{i / 10},{'ab'[i % 2]}\n" for i in range(40)))
    config = resolve_config("table", overrides=[{"data": {"name": str(table)}}])
    assert Trainer.from_config(config).gradients.name == "autograd"


def test_train_backward_autograd_keeps_the_reference_path_on_a_plain_mlp():
    config = resolve_config("seed", overrides=[{"train": {"backward": "autograd"}}])
    assert Trainer.from_config(config).gradients.name == "autograd"
    assert Trainer.from_config(resolve_config("seed")).gradients.name == "hand-written"


def test_only_our_plain_mlps_are_supported():
    assert not ManualMLP.supports(torch.nn.Sequential(torch.nn.Linear(2, 2)))


def test_an_objective_without_gradient_formulas_falls_back_to_autograd_on_the_logits():
    manual, autograd = _pair("seed", {"train": {"loss": "relativistic"}, "seeds": 2})
    manual.gradients.d_grad = manual.gradients.g_grad = None  # as an objective without formulas

    _assert_same_run(manual, autograd)


@pytest.mark.parametrize(("preset", "overrides"), [
    ("default", {"data": {"condition": ["a"]}, "model": {"g_hidden": [16, 8], "d_hidden": [16, 8]},
                 "train": {"batch_size": 32}}),  # the curves' a: one number after the point
    ("seed", {"data": {"condition": ["a"]}, "seeds": 3, "model": {"pack": 2}, "train": {"d_steps": 2}}),
    # D's real logits in G's loss: the real rows carry their own a
    ("seed", {"data": {"condition": ["a"]}, "train": {"loss": "relativistic"}, "seeds": 2}),
    ("ring", {"data": {"condition": ["mode"]}, "train": {"r1": 0.0}, "seeds": 2}),  # a one-hot of 8
])
def test_conditions_concatenated_after_the_point_give_autograds_bits(preset, overrides):
    """G reads z then c, D reads G's point then c: the backward into G takes the point's part of
    D's input gradient only, as cat's backward does, so the bits are autograd's."""
    manual, autograd = _pair(preset, overrides)
    path = getattr(manual.gradients, "path", manual.gradients)  # members: MemberChunks around it
    assert path.condition_width == manual.task.condition_width > 0
    _assert_same_run(manual, autograd)


def test_hard_conditions_and_image_planes_keep_autograd(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("x,c\n" + "".join(f"{i / 10},{'ab'[i % 2]}\n" for i in range(40)))
    config = resolve_config("table", overrides=[{"data": {"name": str(table), "condition": ["c"]},
                                                 "train": {"r1": 0.0}}])
    trainer = Trainer.from_config(config)
    assert trainer.gradients.name == "autograd"
    # the table's output head alone would keep autograd: the hard condition must refuse on its own
    assert not ManualPath.takes_conditions(trainer.task)
    from gankit.tasks import make_task

    assert not ManualPath.takes_conditions(make_task("digits", {"condition": ["class"]}))  # planes
    assert ManualPath.takes_conditions(make_task("digits"))  # no conditions: nothing to attach


def test_a_subclass_of_our_discriminator_keeps_autograd():
    """A subclass of the stacked discriminator may compute more than its layers (a head of its
    own), which this backward does not know, however plain the layers look. (ACGAN's D is a
    wrapper, not a subclass: tests/unit/test_acgan.py checks that it keeps autograd.)"""
    from gankit.nets.layers import Discriminator

    class WithHead(Discriminator):
        pass

    plain = Discriminator(1, 4, [8], "relu")
    assert ManualMLP.supports(plain)
    assert not ManualMLP.supports(WithHead(1, 4, [8], "relu"))
