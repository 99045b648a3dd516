import numpy as np
import pytest
import torch

from gankit.core.errors import GankitError
from gankit.tasks import make_task
from gankit.tasks.parabola import Parabola, fit_curves, wasserstein1_to_uniform


def test_grid_and_formula_match_the_seed():
    task = Parabola()
    np.testing.assert_allclose(task.x, np.linspace(-2, 2, 15))
    y = task.sample(500, torch.Generator().manual_seed(0)).numpy().astype(np.float64)
    assert y.shape == (500, 15) and y.dtype == np.float64
    a = y[:, 7] + 1  # x = 0 gives y = a - 1
    assert a.min() >= 1 and a.max() <= 3
    # hand-computed points: x = -2 gives 5a - 1, x = 1 (index 11, x = 1.1428...) gives a x^2 + a - 1
    np.testing.assert_allclose(y[:, 0], 5 * a - 1, rtol=1e-6)
    x11 = -2 + 11 * 4 / 14
    np.testing.assert_allclose(y[:, 11], a * x11**2 + a - 1, rtol=1e-5)
    # a is uniform on [1, 3]: mean 2, variance 1/3
    assert abs(a.mean() - 2) < 0.1 and abs(a.var() - 1 / 3) < 0.05


def test_sampling_is_reproducible_from_the_generator():
    task = Parabola()
    a = task.sample(8, torch.Generator().manual_seed(3))
    b = task.sample(8, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_exact_curves_have_zero_rmse_and_their_own_a():
    task = Parabola()
    a = np.array([1.0, 1.5, 2.9])
    y = a[:, None] * (task.x**2 + 1) - 1
    a_hat, rmse = fit_curves(y, task.x)
    np.testing.assert_allclose(a_hat, a, atol=1e-12)
    np.testing.assert_allclose(rmse, 0, atol=1e-12)


def test_rmse_of_a_shifted_curve_is_the_shift_off_the_fitted_line():
    task = Parabola()
    b = task.x**2 + 1
    y = 2 * b - 1 + 0.3  # a constant offset: partly absorbed by a_hat, the rest is residual
    a_hat, rmse = fit_curves(y[None], task.x)
    expected_a = 2 + 0.3 * b.sum() / (b @ b)
    residual = y - (expected_a * b - 1)
    assert a_hat[0] == pytest.approx(expected_a)
    assert rmse[0] == pytest.approx(np.sqrt(np.mean(residual**2)))


def test_w1_known_answers():
    # all a = 2 against U[1,3]: E|U - 2| = 1/2
    assert wasserstein1_to_uniform(np.full(1000, 2.0), 1, 3) == pytest.approx(0.5)
    # midpoint quantiles of the uniform: each piece contributes s / (4 n^2), total s / (4 n)
    n = 1000
    quantiles = 1 + 2 * (np.arange(n) + 0.5) / n
    assert wasserstein1_to_uniform(quantiles, 1, 3) == pytest.approx(2 / (4 * n))
    # a point mass outside the support: W1 = distance to the mean, 4 - 2
    assert wasserstein1_to_uniform(np.full(10, 4.0), 1, 3) == pytest.approx(2.0)


def test_w1_agrees_with_numerical_integration_of_cdfs():
    rng = np.random.default_rng(0)
    samples = rng.normal(2, 0.7, size=200)
    t = np.linspace(-2, 6, 400_001)
    empirical = np.searchsorted(np.sort(samples), t, side="right") / samples.size
    uniform = np.clip((t - 1) / 2, 0, 1)
    numeric = np.trapezoid(np.abs(empirical - uniform), t)
    assert wasserstein1_to_uniform(samples, 1, 3) == pytest.approx(numeric, abs=1e-4)


def test_metrics_on_constructed_samples():
    task = Parabola()
    n = 4096
    a = 1 + 2 * (np.arange(n) + 0.5) / n
    y = a[:, None] * (task.x**2 + 1) - 1
    m = task.metrics(y)
    assert m["a_w1"] < 1e-3 and m["curve_rmse_median"] < 1e-9 and m["valid_fraction"] == 1.0
    assert task.success(m)
    noisy = task.metrics(y + np.random.default_rng(0).normal(0, 0.5, y.shape))
    assert noisy["valid_fraction"] < 0.05 and noisy["curve_rmse_median"] > 0.3
    assert not task.success(noisy)


def test_parameters_are_validated():
    assert make_task("parabola", {"a_min": 0, "a_max": 5}).a_max == 5.0
    with pytest.raises(GankitError, match="did you mean 'a_max'"):
        make_task("parabola", {"a_mx": 2.0})
    with pytest.raises(GankitError, match="below"):
        make_task("parabola", {"a_min": 3.0, "a_max": 1.0})
    with pytest.raises(GankitError, match="type int"):
        make_task("parabola", {"n_points": 2.5})
