"""Sample-based metrics between real and generated data of any dimension.

Each metric is a pure function ``metric(real, fake) -> float`` of two arrays of shape (n, d)
and (m, d), registered by name in :data:`METRICS`. They need no known truth, so they apply to
every task; their values depend on the sample sizes, which is why :func:`general_metrics` also
reports each one between two real samples (the noise floor a perfect generator would reach).

A task whose real data are a finite held-out set (a table) uses :func:`held_out_metrics`
instead: generated rows against one half of the held-out rows, floors from the other half.
Which way is better for each metric: :data:`gankit.core.directions.BETTER`.

Distances are computed in float64 by blocks of rows, so that memory stays at a megabyte per
block whatever the sample sizes; 5,000 against 5,000 points take a few tenths of a second per
metric on one CPU thread, and the cost grows with the product of the sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from gankit.core.registry import Registry

Metric = Callable[[np.ndarray, np.ndarray], float]
METRICS: Registry[Metric] = Registry("metric")

BLOCK_ENTRIES = 1 << 17  # distances held at once: 1 MiB in float64, which stays in cache
BANDWIDTH_POINTS = 2000  # pooled points whose pairwise distances give the median heuristic
SLICED_DIRECTIONS = 128
SLICED_SEED = 0
PR_K = 3  # Kynkaanniemi et al. 2019 use k = 3 for precision and recall
DC_K = 5  # Naeem et al. 2020 use k = 5 for density and coverage


def _as_pair(real: np.ndarray, fake: np.ndarray, min_rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Both samples as float64 tensors, shifted by their pooled mean: distances do not change,
    and the squared norms in |x|^2 + |y|^2 - 2 x.y stay small, which keeps its rounding small."""
    x = torch.as_tensor(np.asarray(real, dtype=np.float64))
    y = torch.as_tensor(np.asarray(fake, dtype=np.float64))
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"expected two arrays of shape (n, d) with the same d, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    if min(len(x), len(y)) < min_rows:
        raise ValueError(f"this metric needs at least {min_rows} points in each sample, got "
                         f"{len(x)} and {len(y)}")
    centre = torch.cat([x, y]).mean(dim=0)
    return x - centre, y - centre


def _squared_distance_blocks(x: torch.Tensor, y: torch.Tensor) -> Iterator[tuple[slice, torch.Tensor]]:
    """Squared Euclidean distances from blocks of rows of ``x`` to all rows of ``y``.

    One matrix product per block, without the square roots of ``torch.cdist``: every
    comparison below is between distances, which squaring does not reorder.
    """
    rows = max(1, BLOCK_ENTRIES // len(y))
    y_norms = (y * y).sum(dim=1)
    for start in range(0, len(x), rows):
        block = x[start:start + rows]
        yield slice(start, start + len(block)), torch.addmm(
            y_norms + (block * block).sum(dim=1, keepdim=True), block, y.T, alpha=-2)


def _kth_neighbour_sq(x: torch.Tensor, ks: tuple[int, ...]) -> list[torch.Tensor]:
    """Squared distance from each row of ``x`` to its k-th nearest *other* row (NND_k), per k.

    The point itself is the nearest at distance 0, so NND_k is the (k+1)-th smallest distance.
    """
    nearest = torch.cat([d.topk(max(ks) + 1, dim=1, largest=False, sorted=True).values
                         for _, d in _squared_distance_blocks(x, x)])
    return [nearest[:, k] for k in ks]


def _median_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    pooled = torch.cat([x, y])
    if len(pooled) > BANDWIDTH_POINTS:
        pick = np.random.default_rng(0).choice(len(pooled), BANDWIDTH_POINTS, replace=False)
        pooled = pooled[torch.as_tensor(pick)]
    return float(np.median(torch.pdist(pooled).numpy()))


def median_bandwidth(real: np.ndarray, fake: np.ndarray) -> float:
    """The RBF bandwidth of :func:`mmd_rbf`: the median Euclidean distance over all distinct
    pairs of the pooled sample real + fake (Gretton et al. 2012's median heuristic).

    When the pooled sample holds more than BANDWIDTH_POINTS points, the median is taken over
    the pairs of BANDWIDTH_POINTS of them drawn without replacement by a fixed seed: about two
    million distances, whose median is within a fraction of a percent of the full one, at a
    cost of milliseconds instead of sorting all n^2 distances.
    """
    return _median_distance(*_as_pair(real, fake, min_rows=1))


@METRICS.register("mmd_rbf")
def mmd_rbf(real: np.ndarray, fake: np.ndarray) -> float:
    """Unbiased MMD^2 (Gretton et al. 2012, eq. 3) with the kernel exp(-|x - y|^2 / (2 s^2)),
    s = :func:`median_bandwidth` (real, fake).

    Being unbiased, the estimate scatters around 0, negative values included, when both samples
    come from one law; two copies of one array give -2 (1 - mean off-diagonal kernel) / n.
    """
    x, y = _as_pair(real, fake, min_rows=2)
    two_s2 = 2 * _median_distance(x, y) ** 2
    if two_s2 == 0:
        raise ValueError("the median distance between the points is 0; the RBF bandwidth is undefined")

    def kernel_sum(a: torch.Tensor, b: torch.Tensor) -> float:
        blocks = _squared_distance_blocks(a, b)
        return sum(float(d.clamp_(min=0).div_(-two_s2).exp_().sum()) for _, d in blocks)

    n, m = len(x), len(y)
    # k(x, x) = 1, so removing the diagonal terms is subtracting n (or m)
    return ((kernel_sum(x, x) - n) / (n * (n - 1)) + (kernel_sum(y, y) - m) / (m * (m - 1))
            - 2 * kernel_sum(x, y) / (n * m))


def random_directions(dim: int, n: int = SLICED_DIRECTIONS, seed: int = SLICED_SEED) -> np.ndarray:
    """``n`` unit vectors drawn uniformly on the sphere of R^dim from a fixed seed, as columns."""
    theta = np.random.default_rng(seed).standard_normal((dim, n))
    return theta / np.linalg.norm(theta, axis=0)


@METRICS.register("sliced_w1")
def sliced_w1(real: np.ndarray, fake: np.ndarray) -> float:
    """Sliced 1-Wasserstein distance: the mean over :func:`random_directions` of the exact 1-D W1
    between the projections of the two samples.

    The 1-D W1 is int |F(t) - G(t)| dt between the two empirical CDFs, which are constant
    between consecutive sorted values, so the integral is a finite sum; for equal sizes it is
    the mean of |sorted x - sorted y|. Fixed directions make the metric a deterministic function
    of the two samples, comparable across steps and runs.
    """
    x, y = (t.numpy() for t in _as_pair(real, fake, min_rows=1))
    values = random_directions(x.shape[1]).T @ np.concatenate([x, y]).T  # a row per direction
    weights = np.concatenate([np.full(len(x), 1 / len(x)), np.full(len(y), -1 / len(y))])
    order = np.argsort(values, axis=1)
    cdf_gap = np.cumsum(weights[order], axis=1)[:, :-1]  # F - G between consecutive values
    widths = np.diff(np.take_along_axis(values, order, axis=1), axis=1)
    return float(np.mean(np.sum(np.abs(cdf_gap) * widths, axis=1)))


def prdc(real: np.ndarray, fake: np.ndarray, k_pr: int = PR_K, k_dc: int = DC_K) -> dict[str, float]:
    """Precision and recall (Kynkaanniemi et al. 2019, with k_pr) and density and coverage
    (Naeem et al. 2020, with k_dc), from one pass over each of the three distance matrices.

    NND_k(p) is the distance from a point to its k-th nearest neighbour in its own sample, and
    the manifold of a sample is the union of the closed balls B(p, NND_k(p)) around its points:
    - precision: the share of generated points inside the real manifold;
    - recall: the share of real points inside the generated manifold;
    - density: the number of real balls (k = k_dc) containing a generated point, averaged over
      generated points and divided by k. It is 1 in expectation for one law and exceeds 1 when
      generated points sit closer to real ones than real points sit to each other (a copy of
      the real sample scores (k + 1) / k); a real outlier's large ball counts once per point
      inside it, so unlike precision it is not inflated by real outliers;
    - coverage: the share of real points whose ball (k = k_dc) holds a generated point; for one
      law, N real and M generated points its expectation is
      1 - prod_{i<k} (N-1-i) / (N-1+M-i), about 1 - 2^-k (0.969 for k = 5) when N = M.
    Balls are closed ("<=" as in Kynkaanniemi et al., eq. 1); clovaai/generative-evaluation-prdc
    uses "<", which differs only on exact ties.
    """
    x, y = _as_pair(real, fake, min_rows=max(k_pr, k_dc) + 1)
    real_pr, real_dc = _kth_neighbour_sq(x, (k_pr, k_dc))
    (fake_pr,) = _kth_neighbour_sq(y, (k_pr,))
    in_real_manifold = torch.zeros(len(y), dtype=torch.bool)
    real_balls_hit = torch.zeros(len(y), dtype=torch.int64)
    in_fake_manifold = torch.zeros(len(x), dtype=torch.bool)
    nearest_fake = torch.zeros(len(x), dtype=torch.float64)
    # Real rows, as in the real-real pass: a generated copy of a real point then gets the very
    # same rounded distances as the real point, so ties at a ball's edge stay ties.
    for rows, d in _squared_distance_blocks(x, y):
        in_real_manifold |= (d <= real_pr[rows, None]).any(dim=0)
        real_balls_hit += (d <= real_dc[rows, None]).sum(dim=0)
        in_fake_manifold[rows] = (d <= fake_pr).any(dim=1)
        nearest_fake[rows] = d.min(dim=1).values
    return {
        "precision": float(in_real_manifold.double().mean()),
        "recall": float(in_fake_manifold.double().mean()),
        "density": float(real_balls_hit.double().mean()) / k_dc,
        "coverage": float((nearest_fake <= real_dc).double().mean()),
    }


@METRICS.register("precision")
def precision(real: np.ndarray, fake: np.ndarray) -> float:
    """Improved precision with k = 3 (see :func:`prdc`): are the generated points realistic?"""
    return prdc(real, fake)["precision"]


@METRICS.register("recall")
def recall(real: np.ndarray, fake: np.ndarray) -> float:
    """Improved recall with k = 3 (see :func:`prdc`): is the real law's support reached?"""
    return prdc(real, fake)["recall"]


@METRICS.register("density")
def density(real: np.ndarray, fake: np.ndarray) -> float:
    """Density with k = 5 (see :func:`prdc`): precision that counts overlapping real balls."""
    return prdc(real, fake)["density"]


@METRICS.register("coverage")
def coverage(real: np.ndarray, fake: np.ndarray) -> float:
    """Coverage with k = 5 (see :func:`prdc`): recall measured on real balls only."""
    return prdc(real, fake)["coverage"]


def sample_metrics(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """Every registered metric of (real, fake); the four of :func:`prdc` come from one call."""
    values = prdc(real, fake)
    for name in METRICS:
        if name not in values:
            values[name] = METRICS.get(name)(real, fake)
    return values


def general_metrics(real: np.ndarray, fake: np.ndarray, real2: np.ndarray) -> dict[str, float]:
    """Every registered metric of (real, fake), and as ``NAME_floor`` its value for (real, real2).

    ``real2`` is a second real sample of the generated sample's size, independent of ``real``:
    the floor is what a perfect generator would score up to sampling noise, so each value is
    read against its floor.
    """
    if np.shape(real2) != np.shape(fake):
        raise ValueError(f"real2 must have the shape of fake, {np.shape(fake)}, got {np.shape(real2)}")
    return with_floors(sample_metrics(real, fake), sample_metrics(real, real2))


HALVES_SEED = 0  # the permutation that cuts a finite held-out set into two halves
HELD_OUT_ROWS = 2500  # rows per half the held-out comparison uses at most: the metrics cost n^2


def held_out_halves(rows: np.ndarray, cap: int | None = HELD_OUT_ROWS,
                    seed: int = HALVES_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint halves of ``rows`` of the same count (at most ``cap``), cut from a seeded
    permutation: rows kept in file order (a file sorted by a category) give halves of the same
    law, not a first and a second part. An odd row out is left out."""
    order = np.random.default_rng(seed).permutation(len(rows))
    half = len(rows) // 2 if cap is None else min(len(rows) // 2, cap)
    return rows[order[:half]], rows[order[half:2 * half]]


def held_out_metrics(held: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """:func:`general_metrics` for a task whose real data are a finite held-out set (a table).

    Drawing two real samples from a finite set, with replacement, repeats rows: a point's
    nearest neighbours are then its own copies at distance 0, every ball of precision, recall,
    density and coverage shrinks to a point, and the floors come out near perfect (precision
    1.0) while real rows not among the draws score near 0. Here the held-out rows are cut into
    two disjoint halves (:func:`held_out_halves`), no row twice: as many generated rows as a
    half holds (drawn at random from ``fake``) are compared with one half, and the other half
    gives the floors.
    ``general_rows`` says how many rows each of the three samples has: with a small held-out set
    (70 rows give halves of 35) the metrics are noisy, and values read within that noise of
    their floors; below 6 rows a half (12 held-out rows) every value is NaN.
    """
    held = np.asarray(held).reshape(len(held), -1)
    reference, floor = held_out_halves(held)
    m = min(len(fake), len(floor))
    if m <= max(PR_K, DC_K):  # too few rows for the nearest-neighbour balls: no value, not a crash
        values = with_floors(*[dict.fromkeys(["precision", "recall", "density", "coverage", *METRICS],
                                             float("nan"))] * 2)
        return {**values, "general_rows": m}
    # m random generated rows, not the first m: rows handed over in a sorted order stay fair
    pick = np.random.default_rng(HALVES_SEED + 1).permutation(len(fake))[:m]
    values = general_metrics(reference, np.asarray(fake)[pick].reshape(m, -1), floor[:m])
    values["general_rows"] = m
    return values


def with_floors(values: dict[str, float], floors: dict[str, float]) -> dict[str, float]:
    """Each metric followed by its noise floor as ``NAME_floor``: the one spelling every task's
    metrics use, read by the report, ``gankit runs`` and the figures."""
    return {key: value for name, value in values.items()
            for key, value in ((name, value), (f"{name}_floor", floors[name]))}
