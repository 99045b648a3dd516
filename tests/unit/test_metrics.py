import math

import numpy as np
import pytest

from gankit import metrics
from gankit.metrics import (
    METRICS,
    general_metrics,
    held_out_halves,
    held_out_metrics,
    median_bandwidth,
    mmd_rbf,
    prdc,
    random_directions,
    sliced_w1,
)


def gaussian(seed: int, n: int, d: int, shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    return shift + scale * np.random.default_rng(seed).standard_normal((n, d))


def pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))


def direct_prdc(real: np.ndarray, fake: np.ndarray, k_pr: int, k_dc: int) -> dict[str, float]:
    """The published definitions, written out on full distance matrices."""
    d_rr, d_ff, d_rf = pairwise(real, real), pairwise(fake, fake), pairwise(real, fake)

    def nnd(d: np.ndarray, k: int) -> np.ndarray:  # column 0 of each sorted row is the point itself
        return np.sort(d, axis=1)[:, k]

    inside_real_pr = d_rf <= nnd(d_rr, k_pr)[:, None]  # [i, j]: fake j in the ball of real i
    inside_real_dc = d_rf <= nnd(d_rr, k_dc)[:, None]
    inside_fake = d_rf <= nnd(d_ff, k_pr)[None, :]  # [i, j]: real i in the ball of fake j
    return {
        "precision": inside_real_pr.any(axis=0).mean(),
        "recall": inside_fake.any(axis=1).mean(),
        "density": inside_real_dc.sum(axis=0).mean() / k_dc,
        "coverage": inside_real_dc.any(axis=1).mean(),
    }


def test_the_registry_holds_the_design_names():
    assert METRICS.names() == sorted(["mmd_rbf", "sliced_w1", "precision", "recall", "density", "coverage"])


@pytest.mark.parametrize("block_entries", [metrics.BLOCK_ENTRIES, 1000])
def test_prdc_matches_the_definitions(monkeypatch, block_entries):
    monkeypatch.setattr(metrics, "BLOCK_ENTRIES", block_entries)  # 1000: many blocks, a partial last one
    real, fake = gaussian(0, 230, 3), gaussian(1, 170, 3, shift=0.4, scale=1.3)
    got = prdc(real, fake, k_pr=3, k_dc=5)
    want = direct_prdc(real, fake, 3, 5)
    assert got == pytest.approx(want, abs=1e-12)
    assert 0.2 < got["precision"] < 0.99 and 0.2 < got["recall"] < 0.99  # a case with both kinds
    for name in ("precision", "recall", "density", "coverage"):
        assert METRICS.get(name)(real, fake) == pytest.approx(prdc(real, fake)[name], abs=1e-15)


def test_prdc_of_one_law_matches_its_expected_values():
    n = 2000
    real, fake = gaussian(2, n, 2), gaussian(3, n, 2)
    got = prdc(real, fake)
    # Naeem et al. 2020: E[density] = 1 and E[coverage] = 1 - prod_{i<k} (N-1-i) / (N-1+M-i),
    # 0.9689 here; the tolerances are about 4 standard deviations (measured over seeds).
    assert got["density"] == pytest.approx(1.0, abs=0.05)
    expected_coverage = 1 - math.prod((n - 1 - i) / (2 * n - 1 - i) for i in range(metrics.DC_K))
    assert got["coverage"] == pytest.approx(expected_coverage, abs=0.015)
    # Precision and recall have no closed form and stay below 1 even for one law: points in the
    # tails fall outside every k-NN ball of the other sample. Measured: 0.978 +- 0.004 at this
    # size in 2-D (and about 0.90 in 8-D, the drop with dimension that Naeem et al. criticise).
    assert 0.95 < got["precision"] < 1 and 0.95 < got["recall"] < 1


def test_prdc_of_disjoint_supports_is_zero():
    real, fake = gaussian(4, 300, 2), gaussian(5, 300, 2, shift=20.0)
    assert prdc(real, fake) == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_prdc_tells_dropped_modes_from_bad_samples():
    real = gaussian(6, 2000, 2)
    half = gaussian(7, 4000, 2)
    half = half[half[:, 0] > 0][:1000]  # a generator that drops half of the law
    got = prdc(real, half)
    assert got["precision"] > 0.95 and got["density"] > 0.9  # its points are all realistic
    assert 0.4 < got["recall"] < 0.6 and 0.4 < got["coverage"] < 0.6  # but it covers half
    crowded = prdc(real, gaussian(8, 2000, 2, scale=0.4))  # too concentrated in the middle
    assert crowded["precision"] > 0.95 and crowded["recall"] < 0.75 and crowded["coverage"] < 0.6


def test_a_copy_of_the_real_sample_scores_full_marks_and_density_above_one():
    # Each real ball holds its centre and k neighbours, so a copy hits (k + 1) N balls in all:
    # density = (k + 1) / k exactly, the reward for generated points stacked on real ones.
    real = gaussian(26, 500, 3)
    assert prdc(real, real) == {"precision": 1.0, "recall": 1.0, "density": 6 / 5, "coverage": 1.0}


def test_median_bandwidth_is_the_median_pooled_distance():
    real, fake = gaussian(9, 300, 4), gaussian(10, 200, 4, shift=1.0)
    pooled = np.concatenate([real, fake])
    distances = pairwise(pooled, pooled)[np.triu_indices(len(pooled), k=1)]
    assert median_bandwidth(real, fake) == pytest.approx(np.median(distances), rel=1e-12)


def test_median_bandwidth_of_a_large_sample_uses_a_fixed_subsample():
    real, fake = gaussian(11, 1500, 3), gaussian(12, 1500, 3)
    subsampled = median_bandwidth(real, fake)
    assert subsampled == median_bandwidth(real, fake)
    pooled = np.concatenate([real, fake])
    exact = np.median(pairwise(pooled, pooled)[np.triu_indices(len(pooled), k=1)])
    assert subsampled == pytest.approx(exact, rel=0.01) and subsampled != exact


def test_mmd_matches_the_unbiased_estimator_written_out():
    real, fake = gaussian(13, 40, 3), gaussian(14, 30, 3, shift=0.5)
    s = median_bandwidth(real, fake)

    def k(a, b):
        return np.exp(-pairwise(a, b) ** 2 / (2 * s**2))

    n, m = len(real), len(fake)
    k_xx, k_yy = k(real, real), k(fake, fake)
    want = ((k_xx.sum() - np.trace(k_xx)) / (n * (n - 1)) + (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
            - 2 * k(real, fake).mean())
    assert mmd_rbf(real, fake) == pytest.approx(want, rel=1e-10)


def test_mmd_of_identical_samples_is_about_zero():
    x = gaussian(15, 1000, 2)
    s = median_bandwidth(x, x)
    kernel = np.exp(-pairwise(x, x) ** 2 / (2 * s**2))
    off_diagonal_mean = (kernel.sum() - len(x)) / (len(x) * (len(x) - 1))
    # the unbiased estimate for two copies of one array: -2 (1 - mean off-diagonal kernel) / n
    assert mmd_rbf(x, x) == pytest.approx(-2 * (1 - off_diagonal_mean) / len(x), rel=1e-8)
    assert abs(mmd_rbf(x, x)) < 2e-3
    assert abs(mmd_rbf(x, gaussian(16, 1000, 2))) < 2e-3


def test_mmd_of_shifted_gaussians_matches_the_closed_form():
    # For N(0, I) and N(delta, I) in R^d and kernel exp(-|x - y|^2 / (2 s^2)):
    # MMD^2 = 2 (s^2 / (s^2 + 2))^(d/2) (1 - exp(-|delta|^2 / (2 (s^2 + 2)))).
    d, n = 2, 2000
    real, fake = gaussian(17, n, d), gaussian(18, n, d, shift=1.0)
    s2 = median_bandwidth(real, fake) ** 2
    expected = 2 * (s2 / (s2 + 2)) ** (d / 2) * (1 - math.exp(-d / (2 * (s2 + 2))))
    assert expected > 0.1
    assert mmd_rbf(real, fake) == pytest.approx(expected, rel=0.1)


def test_random_directions_are_fixed_unit_vectors():
    theta = random_directions(5)
    assert theta.shape == (5, metrics.SLICED_DIRECTIONS)
    np.testing.assert_allclose(np.linalg.norm(theta, axis=0), 1.0)
    np.testing.assert_array_equal(theta, random_directions(5))


@pytest.mark.parametrize("shift", [0.7, -0.3])
def test_sliced_w1_of_a_shift_in_1d_is_the_shift(shift):
    x = gaussian(19, 500, 1)
    assert sliced_w1(x, x + shift) == pytest.approx(abs(shift), rel=1e-12)


def test_sliced_w1_of_a_shift_is_the_mean_projected_shift():
    x = gaussian(20, 400, 3)
    v = np.array([0.3, -0.5, 0.2])
    expected = np.mean(np.abs(v @ random_directions(3)))
    assert sliced_w1(x, x + v) == pytest.approx(expected, rel=1e-10)
    assert expected < np.linalg.norm(v)  # a projection never lengthens the shift


def test_sliced_w1_equals_the_mean_gap_of_sorted_projections():
    real, fake = gaussian(21, 300, 4), gaussian(22, 300, 4, scale=1.5)
    theta = random_directions(4)
    gaps = np.abs(np.sort(real @ theta, axis=0) - np.sort(fake @ theta, axis=0)).mean(axis=0)
    assert sliced_w1(real, fake) == pytest.approx(gaps.mean(), rel=1e-12)
    assert sliced_w1(fake, real) == pytest.approx(sliced_w1(real, fake), rel=1e-12)


def test_sliced_w1_of_unequal_sizes_integrates_the_cdfs():
    # {0, 1} against {0, 1/2, 1}: |F - G| = 1/6 on [0, 1), so W1 = 1/6 along both directions of R^1
    assert sliced_w1(np.array([[0.0], [1.0]]), np.array([[0.0], [0.5], [1.0]])) == pytest.approx(1 / 6)


def test_general_metrics_reports_each_metric_and_its_floor():
    real, fake, real2 = gaussian(23, 300, 2), gaussian(24, 300, 2, shift=0.5), gaussian(25, 300, 2)
    values = general_metrics(real, fake, real2)
    assert set(values) == {f"{name}{suffix}" for name in METRICS for suffix in ("", "_floor")}
    for name in METRICS:
        assert values[name] == pytest.approx(METRICS.get(name)(real, fake), abs=1e-15)
        assert values[f"{name}_floor"] == pytest.approx(METRICS.get(name)(real, real2), abs=1e-15)
    assert values["mmd_rbf"] > 10 * abs(values["mmd_rbf_floor"])
    assert values["sliced_w1"] > 2 * values["sliced_w1_floor"]
    assert values["coverage"] < values["coverage_floor"]
    with pytest.raises(ValueError, match="real2 must have the shape of fake"):
        general_metrics(real, fake, real2[:100])


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="same d"):
        mmd_rbf(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="at least 6 points"):
        prdc(np.zeros((5, 2)), np.ones((50, 2)))


def test_the_halves_are_disjoint_equal_and_seeded():
    rows = np.arange(71)[:, None]
    a, b = held_out_halves(rows)
    assert len(a) == len(b) == 35 and not set(a[:, 0]) & set(b[:, 0])
    assert not (np.diff(a[:, 0]) > 0).all()  # a permutation, not the file's order
    np.testing.assert_array_equal(a, held_out_halves(rows)[0])
    assert len(held_out_halves(np.arange(9000)[:, None])[0]) == 2500  # capped: the metrics cost n^2


def test_a_held_out_set_too_small_for_the_balls_gives_nan_not_an_error():
    values = held_out_metrics(np.random.default_rng(0).normal(size=(10, 3)), np.zeros((50, 3)))
    assert values["general_rows"] == 5
    assert np.isnan(values["precision"]) and np.isnan(values["coverage_floor"])
    assert set(values) == {k for name in ["precision", "recall", "density", "coverage", *METRICS]
                           for k in (name, f"{name}_floor")} | {"general_rows"}


def test_held_out_metrics_compare_one_half_and_floor_with_the_other():
    """A finite set of real rows: generated rows against one half, the floor from the other,
    as many rows each. Draws with replacement from the set, as before, repeat rows: the floors
    then near full marks and new rows of the same law far below them."""
    held, fresh = gaussian(31, 400, 3), gaussian(32, 1000, 3)
    values = held_out_metrics(held, fresh)
    reference, floor = held_out_halves(held)
    assert values["general_rows"] == 200
    assert values["precision_floor"] == pytest.approx(prdc(reference, floor)["precision"])
    for name in ("precision", "recall", "coverage"):
        assert abs(values[name] - values[f"{name}_floor"]) < 0.1, name
    rng = np.random.default_rng(0)
    draws = [held[rng.integers(400, size=1000)] for _ in range(2)]
    with_replacement = general_metrics(draws[0], fresh, draws[1])
    for name in ("precision", "coverage", "density"):  # here 0.64 vs 0.97, 0.72 vs 0.99, 0.77 vs 1.24
        assert with_replacement[f"{name}_floor"] - with_replacement[name] > 0.25, name
