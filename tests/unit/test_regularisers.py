"""The terms beside the objective (gankit.objectives.regularisers): R1, R2, WGAN-GP and clipping,
each against values worked out by hand on critics whose input gradient is known."""

import dataclasses

import pytest
import torch
from torch import nn

from gankit.config.resolve import resolve_config
from gankit.config.schema import TrainConfig
from gankit.nets.layers import Discriminator, StackedLinear
from gankit.objectives import OBJECTIVES, REGULARISERS, DiscriminatorBatch
from gankit.objectives.losses import bce_d_loss
from gankit.objectives.regularisers import clip_weights
from gankit.training.trainer import Trainer, active_regularisers


def _linear_critic(weights, biases):
    """A population of linear critics D_m(x) = w_m . x + b_m: every input gradient is w_m."""
    critic = Discriminator(len(weights), 2, hidden=[])
    with torch.no_grad():
        critic[0].weight.copy_(torch.tensor(weights).unsqueeze(1))  # [members, 1, 2]
        critic[0].bias.copy_(torch.tensor(biases).unsqueeze(1))
    return critic


class HalfSquaredNorm(nn.Module):
    """D(x) = |x|^2 / 2 per row: the input gradient at x is x itself."""

    def forward(self, x):
        return 0.5 * (x**2).sum(-1)


def _batch(critic, real, fake, rngs=(), **kw):
    real, fake = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
    return DiscriminatorBatch(critic, real, fake, critic(real), critic(fake), list(rngs), **kw)


def test_the_registry_holds_the_four_terms_with_their_config_weights_and_kinds():
    assert REGULARISERS.names() == ["clip", "gp", "r1", "r2"]
    terms = {name: REGULARISERS.get(name) for name in REGULARISERS.names()}
    assert {n: t.weight_key for n, t in terms.items()} == {"clip": "weight_clip", "gp": "gp_weight",
                                                             "r1": "r1", "r2": "r2"}
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    assert all(t.weight_key in train_keys for t in terms.values())
    assert {n: t.scale for n, t in terms.items()} == {"clip": 1.0, "gp": 1.0, "r1": 0.5, "r2": 0.5}
    assert {n: t.input_grad for n, t in terms.items()} == {"clip": "", "gp": "", "r1": "real", "r2": "fake"}
    penalties = {n for n, t in terms.items() if t.penalty is not None}
    projections = {n for n, t in terms.items() if t.projection is not None}
    assert penalties == {"r1", "r2", "gp"} and projections == {"clip"}


def test_r1_and_r2_are_the_mean_squared_input_gradient_norm_of_a_linear_critic():
    # member 0: w = (3, 4), |w|^2 = 25; member 1: w = (1, -2), |w|^2 = 5 (the bias plays no part)
    critic = _linear_critic([[3.0, 4.0], [1.0, -2.0]], [7.0, -1.0])
    gen = torch.Generator().manual_seed(0)
    batch = _batch(critic, torch.randn(2, 6, 2, generator=gen), torch.randn(2, 6, 2, generator=gen))
    for name in ("r1", "r2"):
        value = REGULARISERS.get(name).penalty(batch)
        assert value.shape == (2,)
        torch.testing.assert_close(value, torch.tensor([25.0, 5.0]))


def test_r1_differentiates_at_the_real_rows_and_r2_at_the_generated_rows():
    # D = |x|^2 / 2: the gradient at x is x, so the penalty is the mean of |x|^2 over the rows used
    real = torch.tensor([[[1.0, 0.0], [0.0, 3.0]]])  # |x|^2: 1, 9 -> mean 5
    fake = torch.tensor([[[2.0, 2.0], [0.0, 0.0]]])  # |x|^2: 8, 0 -> mean 4
    batch = _batch(HalfSquaredNorm(), real, fake)
    torch.testing.assert_close(REGULARISERS.get("r1").penalty(batch), torch.tensor([5.0]))
    torch.testing.assert_close(REGULARISERS.get("r2").penalty(batch), torch.tensor([4.0]))


def test_the_penalties_stay_differentiable_in_the_critics_weights():
    # R1 of a linear critic is |w|^2, whose gradient in w is 2 w: D's step can descend it.
    critic = _linear_critic([[3.0, 4.0]], [0.0])
    batch = _batch(critic, torch.ones(1, 4, 2), torch.zeros(1, 4, 2))
    REGULARISERS.get("r1").penalty(batch).sum().backward()
    torch.testing.assert_close(critic[0].weight.grad, torch.tensor([[[6.0, 8.0]]]))


def test_gp_of_a_linear_critic_is_the_squared_gap_of_its_slope_to_one_wherever_it_looks():
    critic = _linear_critic([[3.0, 4.0], [0.6, 0.8]], [0.0, 0.0])  # |w| = 5 and |w| = 1
    gen = torch.Generator().manual_seed(1)
    batch = _batch(critic, torch.randn(2, 5, 2, generator=gen), torch.randn(2, 5, 2, generator=gen),
                   rngs=[torch.Generator().manual_seed(s) for s in (0, 1)])
    torch.testing.assert_close(REGULARISERS.get("gp").penalty(batch), torch.tensor([16.0, 0.0]))


def test_gp_is_taken_at_interpolates_drawn_from_each_members_own_stream():
    # D = |x|^2 / 2, real row (a, 0), fake row 0: the interpolate eps * (a, 0) has gradient norm
    # eps * a, so the penalty is mean_i (eps_i * a - 1)^2 with eps drawn as the term draws it.
    rows, a = 4, 3.0
    real = torch.zeros(2, rows, 2)
    real[..., 0] = a
    fake = torch.zeros(2, rows, 2)
    rngs = [torch.Generator().manual_seed(s) for s in (10, 11)]
    value = REGULARISERS.get("gp").penalty(_batch(HalfSquaredNorm(), real, fake, rngs=rngs))
    eps = [torch.rand(rows, 1, generator=torch.Generator().manual_seed(s)).squeeze(1) for s in (10, 11)]
    expected = torch.stack([((e * a - 1) ** 2).mean() for e in eps])
    torch.testing.assert_close(value, expected)
    assert not torch.equal(eps[0], eps[1])  # each member its own draws
    # each stream moved on by exactly one draw per row
    after = torch.Generator().manual_seed(10)
    torch.rand(rows, 1, generator=after)
    assert torch.equal(rngs[0].get_state(), after.get_state())


def test_a_data_parallel_rank_takes_its_slice_of_the_global_draws():
    # Two ranks of 3 rows each: both draw 6 values; rank 1 keeps the last 3, which are the
    # values a single process with 6 rows gives its rows 3..5.
    rows, a = 3, 2.0
    real = torch.zeros(1, rows, 2)
    real[..., 0] = a
    value = REGULARISERS.get("gp").penalty(_batch(
        HalfSquaredNorm(), real, torch.zeros(1, rows, 2), rngs=[torch.Generator().manual_seed(5)],
        share=lambda x: x[:, rows:], ranks=2))
    eps = torch.rand(2 * rows, 1, generator=torch.Generator().manual_seed(5)).squeeze(1)[rows:]
    torch.testing.assert_close(value, ((eps * a - 1) ** 2).mean().unsqueeze(0))


def test_clip_projects_every_weight_into_the_bound_and_reports_the_share_at_it():
    layer = StackedLinear(2, 2, 1)  # per member: 2 weights and 1 bias
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[0.5, -0.005]], [[0.001, 0.002]]]))
        layer.bias.copy_(torch.tensor([[0.01], [-0.3]]))  # exactly at the bound counts
    share = REGULARISERS.get("clip").projection(layer, 0.01)
    torch.testing.assert_close(share, torch.tensor([2 / 3, 1 / 3]))
    assert torch.equal(layer.weight, torch.tensor([[[0.01, -0.005]], [[0.001, 0.002]]]))
    assert torch.equal(layer.bias, torch.tensor([[0.01], [-0.01]]))
    # a second projection changes nothing and finds the same weights at the bound
    torch.testing.assert_close(clip_weights(layer, 0.01), torch.tensor([2 / 3, 1 / 3]))


def test_a_config_switches_on_r1_r2_and_its_objectives_own_terms_with_their_weights():
    cfg = resolve_config("seed", overrides=[{"train": {"loss": "wasserstein_gp", "r1": 0.3, "r2": 0.2,
                                                        "gp_weight": 5.0}}])
    assert [(t.name, w) for t, w in active_regularisers(cfg)] == [("r1", 0.3), ("r2", 0.2), ("gp", 5.0)]
    cfg = resolve_config("seed", overrides=[{"train": {"loss": "wasserstein", "weight_clip": 0.05}}])
    assert [(t.name, w) for t, w in active_regularisers(cfg)] == [("clip", 0.05)]
    assert OBJECTIVES.get("wasserstein").regularisers == ("clip",)
    assert active_regularisers(resolve_config("seed")) == []


def _small(**train):
    return resolve_config("seed", overrides=[{"model": {"g_hidden": [8], "d_hidden": [8]},
                                              "train": {"batch_size": 16, **train}}])


def test_d_loss_adds_half_gamma_times_the_unweighted_r1_and_r2_which_are_logged():
    trainer = Trainer.from_config(_small(r1=2.0, r2=0.5))
    gen = torch.Generator().manual_seed(0)
    shape = trainer.task.shape
    real, fake = torch.randn(1, 16, *shape, generator=gen), torch.randn(1, 16, *shape, generator=gen)
    loss, real_logits, fake_logits, values = trainer.gradients.discriminator_loss(real, fake)
    assert sorted(values) == ["r1", "r2"]
    d = trainer.discriminator
    for name, rows in (("r1", real), ("r2", fake)):
        x = rows.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(d(x).sum(), x)
        torch.testing.assert_close(values[name], (grad**2).sum(-1).mean(-1))
    expected = bce_d_loss(real_logits, fake_logits) + 0.5 * 2.0 * values["r1"] + 0.5 * 0.5 * values["r2"]
    torch.testing.assert_close(loss, expected)
    stats = trainer.step()
    assert sorted(stats.terms) == ["r1", "r2"] and stats.terms["r1"].shape == (1,)


def test_a_wasserstein_step_leaves_d_clipped_and_logs_the_share_at_the_bound():
    trainer = Trainer.from_config(_small(loss="wasserstein", weight_clip=0.02))
    stats = trainer.step()
    flat = trainer.d_flat
    assert flat.abs().max() <= 0.02
    share = float((flat.abs() >= 0.02).double().mean())  # one member: the share over all of D's weights
    assert stats.terms["clip"].tolist() == pytest.approx([share])
    assert 0.5 < share < 1  # PyTorch's initial weights are mostly far above 0.02
