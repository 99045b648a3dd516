"""ACGAN (model.acgan, Odena et al. 2017): the class loss by hand in both losses, a D that names
the class instead of reading it, its class head's gradient, autograd as the path, members equal
to single runs, bit-exact resume, the refusals, and a short ring run that learns the mode asked for."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
import torch

from gankit.cli import main
from gankit.config import ModelConfig
from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.evaluation import Evaluator
from gankit.nets import build_networks
from gankit.nets.acgan import ClassifierDiscriminator
from gankit.nets.spec import pack_rows
from gankit.objectives import class_cross_entropy
from gankit.tasks import make_task
from gankit.training.manual import ManualPath
from gankit.training.trainer import Trainer
from helpers import assert_second_member_is_single_run

RING = {"data": {"condition": ["mode"]}, "model": {"acgan": 0.5}}
DIGITS = {"data": {"condition": ["class"]}, "model": {"acgan": 1.0, "options": {"width": 4}},
          "train": {"batch_size": 8}}


def _trainer(preset: str, *overrides: dict) -> Trainer:
    return Trainer.from_config(resolve_config(preset, overrides=list(overrides)))


def _hand_cross_entropy(logits: torch.Tensor, one_hot: torch.Tensor) -> torch.Tensor:
    """-log(exp(l_k) / sum_j exp(l_j)) for each row's class k, by its definition."""
    k = one_hot.argmax(-1, keepdim=True)
    return torch.log(torch.exp(logits).sum(-1)) - logits.gather(-1, k).squeeze(-1)


def test_the_class_loss_is_the_cross_entropy_by_hand():
    logits = torch.tensor([[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]])
    classes = torch.tensor([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])
    expected = [math.log(math.e + math.e**2 + math.e**3) - 3, math.log(3)]
    assert class_cross_entropy(logits, classes)[0].tolist() == pytest.approx(expected, rel=1e-6)


def test_d_and_g_losses_add_the_weighted_class_loss_on_real_and_fake_rows():
    trainer = _trainer("ring", RING)
    path, d = trainer.gradients, trainer.discriminator
    assert isinstance(d, ClassifierDiscriminator) and d.weight == 0.5
    real = trainer.streams.real(16)
    with torch.no_grad():
        fake = trainer.generate(trainer.streams.noise(16))
    loss, real_logits, fake_logits, terms = path.discriminator_loss(real, fake)  # with the preset's R1
    with torch.no_grad():
        (logit_r, class_r, c_r), (logit_f, class_f, c_f) = d.classify(real), d.classify(fake)
    assert torch.equal(c_r, real[..., 2:]) and torch.equal(c_f, fake[..., 2:])  # own class; class asked
    ce_real = _hand_cross_entropy(class_r, c_r).mean(-1)
    ce_fake = _hand_cross_entropy(class_f, c_f).mean(-1)
    torch.testing.assert_close(terms["acgan_real"], ce_real)
    torch.testing.assert_close(terms["acgan_fake"], ce_fake)
    adversarial = trainer.objective.d_loss(logit_r, logit_f)
    penalties = sum(term.scale * weight * terms[term.name] for term, weight in trainer.regularisers)
    torch.testing.assert_close(loss.detach(), adversarial + 0.5 * (ce_real + ce_fake) + penalties)
    z = trainer.streams.noise(16)
    g = path.g_step(z, pack_rows(real, 1))
    with torch.no_grad():
        logits, class_logits, asked = d.classify(trainer.generate(z))
    class_loss = _hand_cross_entropy(class_logits, asked).mean(-1)
    expected = trainer.objective.g_loss(logits, None) + 0.5 * class_loss
    torch.testing.assert_close(g.loss.detach(), expected)
    stats = trainer.step().per_member()
    assert {"acgan_real", "acgan_fake"} <= set(stats)  # logged beside the penalties


@pytest.mark.parametrize(("preset", "overrides"), [("ring", RING), ("digits", DIGITS)])
def test_d_names_the_class_it_does_not_read_and_its_class_head_gets_gradient(preset, overrides):
    trainer = _trainer(preset, overrides)
    real = trainer.streams.real(8)
    other = real.clone()
    width = trainer.task.condition_width
    other[:, :, -width:] = other[:, :, -width:].roll(1, dims=2)  # every row carries another class
    d = trainer.discriminator
    with torch.no_grad():
        assert torch.equal(d(real), d(other))  # the class is not an input of D's logit
        assert not torch.equal(d.classify(real)[2], d.classify(other)[2])  # it is the head's target
    fake = trainer.generate(trainer.streams.noise(8)).detach()
    loss = trainer.gradients.discriminator_loss(real, fake)[0]
    loss.sum().backward()
    heads = [p for name, p in d.named_parameters() if "head" in name]
    assert heads and all(p.grad is not None and p.grad.abs().sum() > 0 for p in heads)


def test_an_acgan_run_takes_autograd_even_where_the_hand_written_path_would_apply():
    plain = {"model": {"activation": "relu"}, "train": {"r1": 0.0, "ema": 0.0}}
    trainer = _trainer("ring", RING, plain)
    assert trainer.gradients.name == "autograd"
    assert not ManualPath.supports(trainer.generator, trainer.discriminator)  # refused by D's type
    concatenated = _trainer("ring", {"data": {"condition": ["mode"]}}, plain)
    assert ManualPath.supports(concatenated.generator, concatenated.discriminator)  # the same MLPs


def test_the_stacked_and_vmap_paths_build_the_same_members_with_their_heads():
    shape = dict(noise_dim=3, g_hidden=[6], d_hidden=[5, 4], acgan=1.0)
    _, stacked = build_networks(ModelConfig(population="stacked", **shape), (2,), [3, 4], condition_width=3,
                                condition_is_class=True)
    _, vmapped = build_networks(ModelConfig(population="vmap", **shape), (2,), [3, 4], condition_width=3,
                                condition_is_class=True)
    assert [p.shape for p in stacked.parameters()][-2:] == [(2, 3, 4), (2, 3)]  # the head: 3 classes
    x = torch.randn(2, 7, 5, generator=torch.Generator().manual_seed(0))  # points, then their class
    for ours, theirs in zip(stacked.classify(x), vmapped.classify(x), strict=True):
        torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize(("preset", "overrides", "steps"), [("ring", RING, 10), ("digits", DIGITS, 3)])
def test_members_equal_single_runs(preset, overrides, steps):
    population = _trainer(preset, overrides, {"seeds": 2, "seed": 3})
    single = _trainer(preset, overrides, {"seed": 4})
    assert_second_member_is_single_run(population, single, steps)


@pytest.mark.parametrize(("preset", "overrides"), [("ring", RING), ("digits", DIGITS)])
def test_a_run_resumed_from_its_state_continues_bit_exact(preset, overrides):
    straight = _trainer(preset, overrides)
    halted = _trainer(preset, overrides)
    for _ in range(4):
        straight.step()
    for _ in range(2):
        halted.step()
    resumed = _trainer(preset, overrides)
    resumed.load_state_dict(copy.deepcopy(halted.state_dict()))
    for _ in range(2):
        resumed.step()
    for net in ("generator", "discriminator", "ema_generator"):
        a, b = getattr(straight, net), getattr(resumed, net)
        if a is not None:
            for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
                assert torch.equal(p, q), net


def _table(tmp_path) -> str:
    frame = pd.DataFrame({"kind": ["a", "b", "c"] * 20, "size": [float(i) for i in range(60)]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    return str(tmp_path / "t.csv")


@pytest.mark.parametrize(("overrides", "message"), [
    ([{"data": {"condition": ["a"]}, "model": {"acgan": 1.0}}], "the curves' a is a continuous number"),
    ([{"model": {"acgan": 1.0}}], "this run has no condition: set data.condition"),
    ([RING, {"model": {"pack": 2}}], "model.acgan needs model.pack = 1"),
    ([{"model": {"acgan": -1.0}}], "model.acgan must be 0 (off) or more, got -1.0"),
])
def test_acgan_without_a_class_to_name_is_refused_in_one_line(overrides, message):
    preset = "ring" if overrides[0] is RING else "default"
    with pytest.raises(GankitError) as raised:
        _trainer(preset, *overrides)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_acgan_is_refused_beside_a_projection_and_on_a_table(tmp_path):
    with pytest.raises(GankitError, match="model.acgan and model.options.projection both give D the class"):
        _trainer("digits", DIGITS, {"model": {"options": {"projection": True}}})
    task = make_task("table", {"path": _table(tmp_path), "condition": ["kind"]})
    config = resolve_config("default", overrides=[{"data": {"name": "table", "path": task.path},
                                                   "model": {"acgan": 1.0}}])
    with pytest.raises(GankitError, match="a table's condition columns are in its rows"):
        Trainer.from_config(config, task)


def test_the_command_refuses_acgan_on_the_curves_with_status_2(tmp_path, capsys):
    argv = ["train", "--condition-on", "a", "--set", "model.acgan=1", "--steps", "2",
            "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "model.acgan" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


def test_a_short_ring_run_learns_the_mode_it_is_asked_for():
    trainer = _trainer("ring", {"data": {"condition": ["mode"]}, "model": {"acgan": 1.0}})
    evaluator = Evaluator(trainer)
    before = evaluator.evaluate(2048)["conditional_accuracy"]
    for _ in range(200):
        trainer.step()
    after = evaluator.evaluate(2048)["conditional_accuracy"]
    assert before < 0.2 and after > before + 0.25, (before, after)  # 0.137 -> 0.479 when written
