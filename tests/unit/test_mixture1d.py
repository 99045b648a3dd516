import math

import numpy as np
import pytest
import torch

from gankit.core.errors import GankitError
from gankit.tasks import make_task
from gankit.tasks.mixture1d import Mixture1D, discrete_jsd


def normal_abs_deviation(mean: float, std: float, c: float) -> float:
    """E|X - c| for X ~ N(mean, std^2), in closed form."""
    d = mean - c
    gaussian_part = std * math.sqrt(2 / math.pi) * math.exp(-(d**2) / (2 * std**2))
    return gaussian_part + d * math.erf(d / (std * math.sqrt(2)))


def test_registered_with_its_defaults():
    task = make_task("mixture1d")
    assert isinstance(task, Mixture1D) and task.shape == (1,)
    assert task.means == (1.0, 3.0) and task.stds == (0.4, 0.6) and task.weights == (0.4, 0.6)


def test_single_numbers_stand_for_every_component_and_weights_are_normalised():
    task = Mixture1D(means=[-1, 0, 2], stds=0.5, weights=[1, 1, 2])
    assert task.stds == (0.5, 0.5, 0.5)
    assert task.weights == (0.25, 0.25, 0.5)


@pytest.mark.parametrize("params, message", [
    ({"means": [0.0, 1.0], "stds": [1.0, 1.0, 1.0]}, "components"),
    ({"stds": [0.5, -0.1]}, "positive"),
    ({"weights": [0.0, 0.0]}, "positive sum"),
    ({"means": []}, "non-empty"),
    ({"means": [0.0, float("nan")]}, "finite"),
])
def test_bad_parameters_name_the_problem(params, message):
    with pytest.raises(GankitError, match=message):
        Mixture1D(**params)


def test_sample_mean_and_variance_match_the_closed_form():
    task = Mixture1D(means=[-2.0, 1.0, 4.0], stds=[0.5, 1.0, 0.3], weights=[0.2, 0.5, 0.3])
    # E X = sum w m = -0.4 + 0.5 + 1.2; Var X = sum w (s^2 + m^2) - (E X)^2
    assert task.mean == pytest.approx(1.3)
    assert task.variance == pytest.approx(0.2 * 4.25 + 0.5 * 2.0 + 0.3 * 16.09 - 1.3**2)
    x = task.sample(400_000, torch.Generator().manual_seed(0))
    assert x.shape == (400_000, 1) and x.dtype == torch.float32
    x = x.double().numpy().ravel()
    assert x.mean() == pytest.approx(task.mean, abs=0.01)
    assert x.var() == pytest.approx(task.variance, rel=0.01)
    # the mass of a few intervals, which depends on every weight, mean and std
    edges = np.array([-1.0, 0.5, 2.5, 3.5])
    counts = np.bincount(np.searchsorted(edges, x), minlength=edges.size + 1)
    expected = np.diff(np.concatenate([[0.0], task.cdf(edges), [1.0]]))
    np.testing.assert_allclose(counts / x.size, expected, atol=0.004)


def test_sampling_is_reproducible_from_the_generator():
    task = Mixture1D()
    assert torch.equal(task.sample(64, torch.Generator().manual_seed(3)),
                       task.sample(64, torch.Generator().manual_seed(3)))


def test_density_and_cdf_are_exact():
    task = Mixture1D(means=[0.0, 3.0], stds=[1.0, 0.5], weights=[0.25, 0.75])
    # at x = 0: 0.25 N(0; 0, 1) + 0.75 N(0; 3, 0.5)
    expected = 0.25 / math.sqrt(2 * math.pi) + 0.75 * math.exp(-18) / (0.5 * math.sqrt(2 * math.pi))
    assert task.density(np.array([0.0]))[0] == pytest.approx(expected, rel=1e-12)
    x = np.linspace(-8, 10, 200_001)
    assert np.trapezoid(task.density(x), x) == pytest.approx(1.0, abs=1e-9)
    cdf = task.cdf(x)
    assert cdf[0] == pytest.approx(0, abs=1e-12) and cdf[-1] == pytest.approx(1, abs=1e-12)
    np.testing.assert_allclose(np.gradient(cdf, x), task.density(x), atol=1e-6)


def test_discrete_jsd_known_values():
    p = np.array([0.2, 0.3, 0.5])
    assert discrete_jsd(p, p) == 0.0
    assert discrete_jsd([0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]) == pytest.approx(math.log(2))
    assert discrete_jsd(p, p[::-1]) == pytest.approx(discrete_jsd(p[::-1], p))


def test_metrics_of_the_mixtures_own_quantiles_are_near_zero():
    task = Mixture1D()
    grid = np.linspace(-2, 6, 400_001)
    quantiles = np.interp((np.arange(20_000) + 0.5) / 20_000, task.cdf(grid), grid)
    m = task.metrics(quantiles[:, None])
    assert m["jsd"] < 1e-4 and m["w1"] < 1e-3
    assert task.success(m)


def test_metrics_of_a_point_mass():
    task = Mixture1D()
    m = task.metrics(np.full((1000, 1), 2.0))
    # W1 between a point mass at c and the law is E|X - c|, here a weighted sum of normal terms
    expected_w1 = sum(w * normal_abs_deviation(mu, s, 2.0)
                      for mu, s, w in zip(task.means, task.stds, task.weights))
    assert m["w1"] == pytest.approx(expected_w1, abs=1e-4)
    # every point in one bin of mass q: JSD = 1/2 log(2 / (1 + q)) + 1/2 (q log(2q / (1 + q)) + (1 - q) log 2)
    q = float(np.diff(task.cdf(task.edges))[np.searchsorted(task.edges, 2.0) - 1])
    expected_jsd = 0.5 * math.log(2 / (1 + q)) + 0.5 * (q * math.log(2 * q / (1 + q)) + (1 - q) * math.log(2))
    assert m["jsd"] == pytest.approx(expected_jsd, rel=1e-9)
    assert not task.success(m)


def test_figures(tmp_path):
    from matplotlib.figure import Figure

    task = Mixture1D()
    real = task.sample(1, torch.Generator().manual_seed(0)).numpy()
    fake = task.sample(2000, torch.Generator().manual_seed(1)).numpy()
    task.draw_samples(Figure().subplots(), real, fake[:8])
    (path,) = task.extra_figures(fake, tmp_path)
    assert path.name == "density.png" and path.stat().st_size > 0
