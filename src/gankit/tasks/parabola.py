"""The seed's task: curves y = a*x^2 + a - 1 with a ~ U[a_min, a_max], on a fixed x grid.

Every real sample lies on the line {a*b - 1 : a} in R^n with b = x^2 + 1, so a generated
sample can be scored exactly: fit a by least squares, measure how far the sample is from
that curve, and compare the distribution of fitted a with the uniform law in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError
from gankit.tasks.base import Task
from gankit.tasks.conditions import check_condition_names, name_list

VALID_RMSE = 0.1  # a sample within this RMSE of its fitted curve counts as a curve


def wasserstein1_to_uniform(samples: np.ndarray, low: float, high: float) -> float:
    """Exact W1 between the empirical law of ``samples`` and U[low, high].

    W1 = int_0^1 |F_n^-1(u) - F^-1(u)| du, where the empirical quantile is the i-th order
    statistic on ((i-1)/n, i/n] and F^-1(u) = low + (high - low) u. On each piece the
    integrand is |c - s u| with c = a_(i) - low and s = high - low, integrated exactly.
    """
    a = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    n = a.size
    if n == 0:
        raise ValueError("no samples")
    s = high - low
    c = a - low
    u0 = np.arange(n) / n
    u1 = (np.arange(n) + 1) / n
    root = np.clip(c / s, u0, u1)  # where c - s u changes sign, clipped to the piece

    def signed(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:  # int (c - s u) du
        return c * (hi - lo) - s * (hi**2 - lo**2) / 2

    return float(np.sum(signed(u0, root) - signed(root, u1)))


def fit_curves(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares a_hat of y ~ a*b - 1 (b = x^2 + 1) and the RMSE of that fit, per row."""
    y = np.asarray(y, dtype=np.float64)
    b = np.asarray(x, dtype=np.float64) ** 2 + 1
    a_hat = (y + 1) @ b / (b @ b)
    residual = y - (a_hat[:, None] * b - 1)
    return a_hat, np.sqrt(np.mean(residual**2, axis=1))


@dataclass
class Parabola(Task):
    """The seed's curve family; the defaults are the seed's values."""

    a_min: float = 1.0
    a_max: float = 3.0
    n_points: int = 15
    x_min: float = -2.0
    x_max: float = 2.0
    condition: tuple[str, ...] = ()  # ("a",): G draws the curve of the a it is asked for

    name = "parabola"
    condition_names = ("a",)

    def __post_init__(self) -> None:
        if not self.a_min < self.a_max:
            raise GankitError(f"data.a_min ({self.a_min}) must be below data.a_max ({self.a_max})")
        if not self.x_min < self.x_max:
            raise GankitError(f"data.x_min ({self.x_min}) must be below data.x_max ({self.x_max})")
        if self.n_points < 2:
            raise GankitError(f"data.n_points must be at least 2, got {self.n_points}")
        self.x = np.linspace(self.x_min, self.x_max, self.n_points)
        self._b: dict[torch.device, torch.Tensor] = {}
        self.condition = name_list("condition", self.condition)
        check_condition_names(self, self.condition)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n_points,)

    def _basis(self, device: torch.device) -> torch.Tensor:
        if device not in self._b:
            self._b[device] = torch.tensor(self.x**2 + 1, dtype=torch.float32, device=device)
        return self._b[device]

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(n, 1, generator=generator, device=generator.device)
        a = self.a_min + (self.a_max - self.a_min) * u
        return a * self._basis(generator.device) - 1

    # Conditioned on a (data.condition = ["a"]): c = a scaled to [-1, 1] over [a_min, a_max].

    @property
    def condition_width(self) -> int:
        return len(self.condition)

    def _scaled(self, a: torch.Tensor) -> torch.Tensor:
        middle, half = (self.a_max + self.a_min) / 2, (self.a_max - self.a_min) / 2
        return (a - middle) / half

    def conditions(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """a drawn from its law, U[a_min, a_max], in training and when sampling alike."""
        u = torch.rand(n, 1, generator=generator, device=generator.device)
        return self._scaled(self.a_min + (self.a_max - self.a_min) * u)

    def condition_real(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A real curve's own a (its least-squares fit, exact on the family): no draw."""
        if not self.condition:
            return x
        b = self._basis(x.device)
        a = (x + 1) @ b / (b @ b)
        return torch.cat([x, self._scaled(a)[:, None]], dim=-1)

    def condition_vector(self, values: dict[str, Any], n: int, device: Any = "cpu",
                         extrapolate: bool = False) -> torch.Tensor:
        if not self.condition:
            return super().condition_vector(values, n, device, extrapolate)
        check_condition_names(self, tuple(values), self.condition, "--condition")
        if "a" not in values:
            raise GankitError("this run is conditioned on a: ask for one, e.g. --condition a=2.0")
        try:
            a = float(values["a"])
        except (TypeError, ValueError):
            raise GankitError(f"condition a must be a number, got {values['a']!r}") from None
        if not (self.a_min <= a <= self.a_max or extrapolate):
            raise GankitError(f"condition a={a:g} is outside the training range [{self.a_min:g}, "
                              f"{self.a_max:g}]; --extrapolate asks for it anyway")
        return self._scaled(torch.full((n, 1), a, device=device))

    def condition_figure(self, sample: Any, path: Path) -> Path | None:
        """``by_condition.png``: six curves asked for at each a of five over the range, over the
        true curve of that a."""
        if not self.condition:
            return None
        from matplotlib import colormaps
        from matplotlib.figure import Figure

        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        values = np.linspace(self.a_min, self.a_max, 5)
        for a, colour in zip(values, colormaps["viridis"](np.linspace(0, 0.9, len(values))), strict=True):
            ax.plot(self.x, a * (self.x**2 + 1) - 1, "--", c=colour, lw=2.5, label=f"a = {a:g}: true")
            for curve in sample({"a": float(a)}, 6, 1):
                ax.plot(self.x, curve, c=colour, lw=0.8, alpha=0.8)
        ax.set_title("6 generated curves per a asked for (solid) over the true curve (dashed)", fontsize=9)
        ax.set_xlabel("x")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        return Path(path)

    def condition_metrics(self, points: np.ndarray) -> dict[str, float]:
        """``condition_error``: mean |a_hat - a| of the generated curves and the a they were asked for."""
        middle, half = (self.a_max + self.a_min) / 2, (self.a_max - self.a_min) / 2
        asked = points[:, -1] * half + middle
        a_hat, _ = fit_curves(points[:, :-1], self.x)
        return {"condition_error": float(np.mean(np.abs(a_hat - asked)))}

    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        a_hat, rmse = fit_curves(fake, self.x)
        valid = (rmse <= VALID_RMSE) & (a_hat >= self.a_min) & (a_hat <= self.a_max)
        return {
            "a_w1": wasserstein1_to_uniform(a_hat, self.a_min, self.a_max),
            "curve_rmse_median": float(np.median(rmse)),
            "valid_fraction": float(np.mean(valid)),
        }

    def success(self, metrics: dict[str, float]) -> bool:
        return metrics["a_w1"] <= 0.05 and metrics["curve_rmse_median"] <= 0.05

    def column_names(self, dim: int) -> list[str]:
        """``y(x=-2)``, ...: a point's values lie on the x grid, and the header says where."""
        if len(self.x) != dim:
            return super().column_names(dim)
        return [f"y(x={float(x):g})" for x in self.x]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        b = self.x**2 + 1
        return self.a_min * b - 1, self.a_max * b - 1

    def draw_samples(self, ax: Any, real: np.ndarray, fake: np.ndarray) -> None:
        lower, upper = self.bounds()
        ax.plot(self.x, upper, "--", c="#000066", lw=2, label="upper bound of data")
        ax.plot(self.x, lower, "--", c="#4AD631", lw=2, label="lower bound of data")
        ax.plot(self.x, real[0], c="#0066ff", lw=3, label="a real curve")
        for i, curve in enumerate(fake):
            ax.plot(self.x, curve, c="red", lw=3 if i == 0 else 1, alpha=1 if i == 0 else 0.35,
                    label="G(z)" if i == 0 else None)
        ax.set_ylim(min(0.0, lower.min()), upper.max())
        ax.legend(loc="upper right", fontsize=9)

    def extra_figures(self, fake: np.ndarray, figures_dir: Path,
                      metrics: dict[str, Any] | None = None) -> list[Path]:
        from matplotlib.figure import Figure

        a_hat, _ = fit_curves(fake, self.x)
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        span = self.a_max - self.a_min
        lo, hi = self.a_min - 0.25 * span, self.a_max + 0.25 * span
        ax.hist(np.clip(a_hat, lo, hi), bins=80, range=(lo, hi), density=True, color="tab:red",
                alpha=0.6, label=f"fitted a of {a_hat.size:,} generated curves")
        ax.plot([lo, self.a_min, self.a_min, self.a_max, self.a_max, hi],
                [0, 0, 1 / span, 1 / span, 0, 0], c="k", lw=2,
                label=f"U[{self.a_min:g}, {self.a_max:g}] (the real law)")
        ax.set_xlabel("a")
        ax.set_ylabel("density")
        if metrics is not None and "a_w1" in metrics:
            ax.set_title(f"a_w1 = {metrics['a_w1']:.4f} (summary.json: the evaluation sample shown)",
                         fontsize=10)
        else:
            ax.set_title(f"a_w1 = {wasserstein1_to_uniform(a_hat, self.a_min, self.a_max):.4f} (this sample)")
        ax.legend(loc="upper right", fontsize=8)
        path = Path(figures_dir) / "a_hist.png"
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        return [path]
