"""A 1-D Gaussian mixture: the smallest data set whose density is known in closed form.

With the exact density and CDF at hand, a generated sample is scored against the truth itself,
not against another sample: the Jensen-Shannon divergence of binned probabilities (bin masses
of the real law from its CDF) and the 1-Wasserstein distance between the two CDFs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError
from gankit.tasks.base import Task

JSD_BINS = 100  # bins over the mixture's range for the binned JSD, plus one for each tail
RANGE_STDS = 5.0  # the mixture's range reaches this many stds past its outermost means


def discrete_jsd(p: np.ndarray, q: np.ndarray) -> float:
    """JSD (nats) between two probability vectors; terms with p = 0 or q = 0 count as 0 log 0."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_pm = np.where(p > 0, p * np.log(p / m), 0.0)
        kl_qm = np.where(q > 0, q * np.log(q / m), 0.0)
    return float((kl_pm.sum() + kl_qm.sum()) / 2)


def _floats(key: str, value: float | Sequence[float]) -> tuple[float, ...]:
    values = (value,) if isinstance(value, (int, float)) else tuple(value)
    if not values or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise GankitError(f"data.{key} must be a finite number or a non-empty list of them, got {value!r}")
    return tuple(float(v) for v in values)


@dataclass
class Mixture1D(Task):
    """sum_k weights[k] N(means[k], stds[k]^2). A single number stands for every component
    (``stds = 0.5``); weights need not sum to one, they are normalised.

    The default sits off zero on purpose: a freshly initialised generator outputs values near 0,
    where this law has little mass, so D rejects the first fakes confidently (Goodfellow et al.
    2014, sec. 3, the regime where eq. (3) saturates).
    """

    means: tuple[float, ...] | float = (1.0, 3.0)
    stds: tuple[float, ...] | float = (0.4, 0.6)
    weights: tuple[float, ...] | float = (0.4, 0.6)

    name = "mixture1d"

    def __post_init__(self) -> None:
        means, stds, weights = (_floats(k, getattr(self, k)) for k in ("means", "stds", "weights"))
        k = max(len(means), len(stds), len(weights))
        lists = {"means": means, "stds": stds, "weights": weights}
        for key, values in lists.items():
            if len(values) not in (1, k):
                raise GankitError(f"data.{key} has {len(values)} values but the mixture has {k} "
                                  "components; give one value per component, or one for all")
            lists[key] = values * k if len(values) == 1 else values
        if not all(s > 0 for s in lists["stds"]):
            raise GankitError(f"data.stds must be positive, got {list(lists['stds'])}")
        if not all(w >= 0 for w in lists["weights"]) or sum(lists["weights"]) <= 0:
            raise GankitError(f"data.weights must be non-negative with a positive sum, "
                              f"got {list(lists['weights'])}")
        total = sum(lists["weights"])
        self.means, self.stds = lists["means"], lists["stds"]
        self.weights = tuple(w / total for w in lists["weights"])
        self._mean = np.array(self.means)
        self._std = np.array(self.stds)
        self._weight = np.array(self.weights)
        low = min(m - RANGE_STDS * s for m, s in zip(self.means, self.stds))
        high = max(m + RANGE_STDS * s for m, s in zip(self.means, self.stds))
        self.edges = np.linspace(low, high, JSD_BINS + 1)
        self._bin_mass = np.diff(np.concatenate([[0.0], self.cdf(self.edges), [1.0]]))

    @property
    def shape(self) -> tuple[int, ...]:
        return (1,)

    @property
    def mean(self) -> float:
        return float(self._weight @ self._mean)

    @property
    def variance(self) -> float:
        """Law of total variance: E[Var | component] + Var[E | component]."""
        return float(self._weight @ (self._std**2 + self._mean**2) - self.mean**2)

    def density(self, x: np.ndarray) -> np.ndarray:
        """The exact probability density at each point of ``x`` (float64, same shape)."""
        z = (np.asarray(x, dtype=np.float64)[..., None] - self._mean) / self._std
        return np.exp(-z**2 / 2) / (self._std * math.sqrt(2 * math.pi)) @ self._weight

    def cdf(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64)[..., None] - self._mean) / (self._std * math.sqrt(2))
        return (1 + torch.special.erf(torch.from_numpy(z)).numpy()) / 2 @ self._weight

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        device = generator.device
        weight = torch.tensor(self.weights, dtype=torch.float32, device=device)
        component = torch.multinomial(weight, n, replacement=True, generator=generator)
        mean = torch.tensor(self.means, dtype=torch.float32, device=device)[component]
        std = torch.tensor(self.stds, dtype=torch.float32, device=device)[component]
        noise = torch.randn(n, generator=generator, device=device)
        return (mean + std * noise).unsqueeze(1)

    def binned_jsd(self, fake: np.ndarray) -> float:
        """JSD between the bin masses of the samples and of the mixture, the two tails included.

        Binning can only lower a divergence, so this is a lower bound of the true JSD up to the
        sampling noise of the histogram, which adds about (bins - 1) / (8 n) for n samples.
        """
        x = np.asarray(fake, dtype=np.float64).ravel()
        counts = np.bincount(np.searchsorted(self.edges, x, side="right"), minlength=JSD_BINS + 2)
        return discrete_jsd(counts / x.size, self._bin_mass)

    def wasserstein1(self, fake: np.ndarray) -> float:
        """int |F_n(x) - F(x)| dx by the midpoint rule on a fine grid merged with the samples,
        so that F_n is constant on every interval and only the smooth F is approximated."""
        x = np.sort(np.asarray(fake, dtype=np.float64).ravel())
        low, high = min(x[0], self.edges[0]), max(x[-1], self.edges[-1])
        points = np.sort(np.concatenate([x, np.linspace(low, high, 2001)]))
        mid = (points[1:] + points[:-1]) / 2
        empirical = np.searchsorted(x, mid, side="right") / x.size
        return float(np.abs(empirical - self.cdf(mid)) @ np.diff(points))

    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        return {"jsd": self.binned_jsd(fake), "w1": self.wasserstein1(fake)}

    def success(self, metrics: dict[str, float]) -> bool:
        return metrics["jsd"] <= 0.01 and metrics["w1"] <= 0.05

    def draw_samples(self, ax: Any, real: np.ndarray, fake: np.ndarray) -> None:
        grid = np.linspace(self.edges[0], self.edges[-1], 400)
        density = self.density(grid)
        ax.plot(grid, density, c="#0066ff", lw=2, label="p_r (exact density)")
        top = density.max()
        ax.plot(np.ravel(real), np.full(np.size(real), -0.04 * top), "|", c="#0066ff", ms=14,
                label="real samples")
        ax.plot(np.ravel(fake), np.full(np.size(fake), -0.1 * top), "|", c="red", ms=14, mew=2,
                label="G(z)")
        ax.set_ylim(-0.15 * top, 1.7 * top)  # room above for the step text and the legend
        ax.set_xlabel("x")
        ax.legend(loc="upper right", fontsize=9)

    def extra_figures(self, fake: np.ndarray, figures_dir: Path,
                      metrics: dict[str, Any] | None = None) -> list[Path]:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        low, high = self.edges[0], self.edges[-1]
        ax.hist(np.clip(np.ravel(fake), low, high), bins=JSD_BINS, range=(low, high), density=True,
                color="tab:red", alpha=0.6, label=f"{np.size(fake):,} generated points")
        grid = np.linspace(low, high, 400)
        ax.plot(grid, self.density(grid), c="k", lw=2, label="p_r (exact density)")
        from_summary = bool(metrics) and "jsd" in metrics
        source = "summary.json: the evaluation sample shown" if from_summary else "this sample"
        m = metrics if metrics and "jsd" in metrics else self.metrics(fake)
        ax.set_title(f"jsd = {m['jsd']:.4f}, w1 = {m['w1']:.4f} ({source})", fontsize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("density")
        ax.legend(loc="upper right", fontsize=8)
        path = Path(figures_dir) / "density.png"
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        return [path]
