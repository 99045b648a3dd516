import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gankit.core.errors import GankitError
from gankit.nets.layers import Discriminator
from gankit.tasks import make_task
from gankit.tasks.mixture2d import HQ_STDS, Grid, Ring, draw_discriminator_heatmap

# Share of a 2-D isotropic Gaussian within 3 stds of its mean: the radius is Rayleigh-distributed,
# P(R < 3 std) = 1 - exp(-9/2). Real data itself scores this hq_fraction.
REAL_HQ = 1 - math.exp(-HQ_STDS**2 / 2)


def test_ring_has_eight_distinct_modes_on_the_unit_circle():
    means = Ring().means
    assert means.shape == (8, 2)
    np.testing.assert_allclose(np.hypot(means[:, 0], means[:, 1]), 1.0)
    angles = np.mod(np.arctan2(means[:, 1], means[:, 0]), 2 * np.pi)
    np.testing.assert_allclose(np.sort(angles), 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1) + np.eye(8)
    assert gaps.min() == pytest.approx(2 * math.sin(math.pi / 8))  # neighbours, none repeated


def test_grid_modes_are_the_25_points_of_minus4_to_4_by_2():
    means = Grid().means
    expected = {(x, y) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert means.shape == (25, 2) and {tuple(p) for p in means.tolist()} == expected


@pytest.mark.parametrize("task", [Ring(), Grid(), Ring(n_modes=3, radius=2.0, std=0.1),
                                  Grid(per_side=2, spacing=1.0, std=0.02)], ids=repr)
def test_samples_recover_the_mode_means_stds_and_equal_weights(task):
    n = 40_000
    x = task.sample(n, torch.Generator().manual_seed(0))
    assert x.dtype == torch.float32 and x.shape == (n, 2) and x.device.type == "cpu"
    x = x.numpy().astype(np.float64)
    mode = np.argmin(np.linalg.norm(x[:, None] - task.means[None], axis=-1), axis=1)
    k = len(task.means)
    counts = np.bincount(mode, minlength=k)
    assert np.all(np.abs(counts - n / k) < 5 * math.sqrt(n / k))  # multinomial, 5 sigma
    for i in range(k):
        points = x[mode == i]
        standard_error = task.std / math.sqrt(len(points))
        np.testing.assert_allclose(points.mean(axis=0), task.means[i], atol=5 * standard_error)
        np.testing.assert_allclose(points.std(axis=0), task.std, rtol=0.1)


def test_sampling_is_reproducible_from_the_generator():
    task = Grid()
    a = task.sample(64, torch.Generator().manual_seed(5))
    assert torch.equal(a, task.sample(64, torch.Generator().manual_seed(5)))
    assert not torch.equal(a, task.sample(64, torch.Generator().manual_seed(6)))


@pytest.mark.parametrize("task", [Ring(), Grid()], ids=repr)
def test_points_at_the_means_score_perfectly(task):
    points = np.repeat(task.means, 10, axis=0)
    m = task.metrics(points)
    assert m == {"modes_covered": len(task.means), "hq_fraction": 1.0, "reverse_kl": 0.0}
    assert task.success(m)


@pytest.mark.parametrize("task", [Ring(), Grid()], ids=repr)
def test_collapse_onto_one_mode_gives_log_k(task):
    m = task.metrics(np.repeat(task.means[3:4], 100, axis=0))
    assert m["modes_covered"] == 1 and m["hq_fraction"] == 1.0
    assert m["reverse_kl"] == pytest.approx(math.log(len(task.means)), abs=1e-12)
    assert not task.success(m)


def test_reverse_kl_of_a_hand_computed_spread():
    task = Ring()
    # half the points on mode 0, a quarter each on modes 1 and 2: p = (1/2, 1/4, 1/4, 0, ...)
    points = np.repeat(task.means[[0, 0, 1, 2]], 25, axis=0)
    m = task.metrics(points)
    expected = 0.5 * math.log(0.5 * 8) + 2 * 0.25 * math.log(0.25 * 8)  # = log 8 - H(p) = 1.5 log 2
    assert m["reverse_kl"] == pytest.approx(expected) == pytest.approx(1.5 * math.log(2))
    assert m["modes_covered"] == 3


def test_the_high_quality_radius_is_three_stds_and_low_quality_points_are_left_out_of_the_kl():
    task = Grid()
    direction = np.array([0.6, 0.8])  # a unit vector
    inside = task.means + 2.99 * task.std * direction
    outside = task.means[:5] + 3.01 * task.std * direction
    m = task.metrics(np.concatenate([inside, outside]))
    assert m == {"modes_covered": 25, "hq_fraction": 25 / 30, "reverse_kl": 0.0}


def test_far_or_broken_points_are_low_quality_and_reverse_kl_is_log_k():
    task = Ring()
    far = np.full((50, 2), 100.0)
    far[:5] = np.nan
    far[5:10] = np.inf
    m = task.metrics(far)
    assert m == {"modes_covered": 0, "hq_fraction": 0.0, "reverse_kl": pytest.approx(math.log(8))}
    assert not task.success(m)


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_real_data_scores_as_the_theory_says_and_succeeds(name):
    task = make_task(name)
    real = task.sample(20_000, torch.Generator().manual_seed(1)).numpy()
    m = task.metrics(real)
    assert m["hq_fraction"] == pytest.approx(REAL_HQ, abs=4 * math.sqrt(REAL_HQ * (1 - REAL_HQ) / 20_000))
    assert m["modes_covered"] == len(task.means)
    # the histogram noise of a multinomial: E[KL] is about (K - 1) / (2 n)
    assert m["reverse_kl"] < 5 * (len(task.means) - 1) / (2 * 20_000)
    # at the papers' 2,500 points, real data passes the issue's thresholds
    assert task.eval_samples == 2500
    assert task.success(task.metrics(real[: task.eval_samples]))


def test_success_thresholds_follow_the_issue():
    ring, grid = Ring(), Grid()
    good = {"modes_covered": 8, "hq_fraction": 0.98, "reverse_kl": 0.02}
    assert ring.success(good)
    assert not ring.success({**good, "modes_covered": 7})
    assert not ring.success({**good, "hq_fraction": 0.979})
    assert not ring.success({**good, "reverse_kl": 0.021})
    good = {"modes_covered": 25, "hq_fraction": 0.95, "reverse_kl": 0.02}
    assert grid.success(good)
    assert not grid.success({**good, "hq_fraction": 0.949})
    assert not grid.success({**good, "modes_covered": 24})


def test_parameters_are_validated():
    assert make_task("ring", {"n_modes": 5, "radius": 2}).means.shape == (5, 2)
    assert make_task("grid", {"per_side": 3, "std": 0.1}).means.shape == (9, 2)
    with pytest.raises(GankitError, match="data.n_modes must be at least 1, got 0"):
        make_task("ring", {"n_modes": 0})
    with pytest.raises(GankitError, match="data.radius must be a positive number"):
        make_task("ring", {"radius": 0.0})
    with pytest.raises(GankitError, match="data.std must be a positive number, got -0.1"):
        make_task("grid", {"std": -0.1})
    with pytest.raises(GankitError, match="data.std must be a positive number, got nan"):
        make_task("ring", {"std": float("nan")})
    with pytest.raises(GankitError, match="data.per_side must be at least 1"):
        make_task("grid", {"per_side": 0})
    with pytest.raises(GankitError, match="data.spacing must be a positive number"):
        make_task("grid", {"spacing": -2.0})
    with pytest.raises(GankitError, match="did you mean 'n_modes'"):
        make_task("ring", {"n_mode": 8})
    with pytest.raises(GankitError, match="type int"):
        make_task("grid", {"per_side": 2.5})


def test_mode_histogram_figure(tmp_path):
    task = Ring()
    fake = np.concatenate([np.repeat(task.means[:2], 40, axis=0), np.full((20, 2), 5.0)])
    assert task.mode_counts(fake).tolist() == [40, 40, 0, 0, 0, 0, 0, 0, 20]
    paths = task.extra_figures(fake, tmp_path)
    assert paths == [tmp_path / "mode_hist.png"] and paths[0].stat().st_size > 10_000


def test_snapshot_drawing_counts_points_outside_the_frame():
    task = Grid()
    fig = Figure()
    ax = fig.subplots()
    fake = np.concatenate([task.means, [[50.0, 0.0], [0.0, -50.0]]])
    task.draw_samples(ax, task.means, fake)
    assert ax.get_xlim() == ax.get_ylim() == task.frame() and ax.get_aspect() == 1.0
    assert "G(z), 2 outside the frame" in [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("pack", [1, 2])
def test_discriminator_heatmap_draws_sigmoid_of_d_over_the_frame(pack):
    task = Ring()
    d = Discriminator(2, 2 * pack, [])  # one linear layer per member: logit = w . x + b
    d.pack = pack
    with torch.no_grad():
        d.linear_layers()[0].weight.copy_(torch.tensor([[[1.0, 0.0] * pack], [[0.0, 1.0] * pack]]))
        d.linear_layers()[0].bias.zero_()
    fig = Figure()
    ax = fig.subplots()
    image = draw_discriminator_heatmap(ax, task, d, "cpu", member=1, resolution=50)
    low, high = task.frame()
    y = np.linspace(low, high, 50)
    expected = 1 / (1 + np.exp(-pack * y))  # member 1 reads the y coordinate of every copy
    np.testing.assert_allclose(image.get_array(), np.repeat(expected[:, None], 50, axis=1), atol=1e-6)
    assert image.get_extent() == [low, high, low, high] and d.training
