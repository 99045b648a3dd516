"""Mode-collapse benchmarks: equal-weight isotropic Gaussians in the plane, on a ring or a grid.

The defaults are those of the PacGAN code (Lin et al. 2018), after VEEGAN (Srivastava et al.
2017): 8 modes on the unit circle with std 0.01, and 25 modes at {-4, -2, 0, 2, 4}^2 with
std 0.05. Their metrics are the papers' too, computed on 2,500 generated points: a point is of
high quality when it lies within 3 stds of its nearest mode mean, a mode is covered when it is
the nearest mode of at least one high-quality point, and the reverse KL compares the spread of
high-quality points over the modes with the uniform law.

Real data itself is of high quality only with probability 1 - exp(-9/2) = 0.989 (the distance
of a 2-D Gaussian point to its mean is Rayleigh-distributed), so no generator can expect a higher
hq_fraction; at 2,500 points its standard error is 0.002.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gankit.core.errors import GankitError
from gankit.tasks.base import Task
from gankit.tasks.conditions import check_condition_names, name_list

HQ_STDS = 3.0  # a generated point within this many stds of its nearest mean is of high quality
EVAL_SAMPLES = 2500  # generated points the papers score
MAX_REVERSE_KL = 0.02  # success needs the spread over the modes at least this close to uniform


def _positive(key: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise GankitError(f"data.{key} must be a positive number, got {value!r}")


def _at_least_one(key: str, value: int) -> None:
    if value < 1:
        raise GankitError(f"data.{key} must be at least 1, got {value!r}")


class Mixture2D(Task):
    """Shared by the ring and the grid: equal-weight Gaussians N(means[i], std^2 I) in the plane.

    A subclass is a dataclass with a ``std`` field; it defines :meth:`mode_means` and
    ``min_hq_fraction``, the share of high-quality points its success asks for.
    """

    std: float
    min_hq_fraction: float
    condition: tuple[str, ...]  # ("mode",): G draws a point of the mode it is asked for
    condition_names = ("mode",)
    condition_is_class = True
    eval_samples = EVAL_SAMPLES
    figure_points = 500  # a snapshot needs enough points to show which modes are covered

    @abstractmethod
    def mode_means(self) -> np.ndarray:
        """The (K, 2) array of the mode means, once the subclass's parameters are checked."""

    def __post_init__(self) -> None:
        _positive("std", self.std)
        self.means = self.mode_means()
        self._means_on: dict[torch.device, torch.Tensor] = {}
        self.condition = name_list("condition", self.condition)
        check_condition_names(self, self.condition)

    # Conditioned on the mode (data.condition = ["mode"]): c is the one-hot of the mode's index.

    @property
    def condition_width(self) -> int:
        return len(self.means) if self.condition else 0

    def conditions(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """Modes drawn as the data draw them: each equally often."""
        mode = torch.randint(len(self.means), (n,), generator=generator, device=generator.device)
        return torch.nn.functional.one_hot(mode, len(self.means)).float()

    def condition_real(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A real point's mode: its nearest mean (no draw)."""
        if not self.condition:
            return x
        means = torch.as_tensor(self.means, dtype=x.dtype, device=x.device)
        nearest = torch.cdist(x, means).argmin(dim=1)
        return torch.cat([x, torch.nn.functional.one_hot(nearest, len(self.means)).to(x.dtype)], dim=-1)

    def condition_vector(self, values: dict[str, Any], n: int, device: Any = "cpu",
                         extrapolate: bool = False) -> torch.Tensor:
        if not self.condition:
            return super().condition_vector(values, n, device, extrapolate)
        check_condition_names(self, tuple(values), self.condition, "--condition")
        k = len(self.means)
        try:
            mode = int(values.get("mode", ""))
        except (TypeError, ValueError):
            mode = -1
        if not 0 <= mode < k:
            raise GankitError(f"condition mode must be a mode's index, 0 to {k - 1}, "
                              f"got {values.get('mode')!r}")
        return torch.nn.functional.one_hot(torch.full((n,), mode), k).float().to(device)

    def condition_metrics(self, points: np.ndarray) -> dict[str, float]:
        """``conditional_accuracy``: the share of points nearest to the mode asked for."""
        nearest, _ = self.assign(points[:, :2])
        return {"conditional_accuracy": float(np.mean(nearest == points[:, 2:].argmax(axis=1)))}

    @property
    def shape(self) -> tuple[int, ...]:
        return (2,)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        device = generator.device
        if device not in self._means_on:
            self._means_on[device] = torch.tensor(self.means, dtype=torch.float32, device=device)
        means = self._means_on[device]
        mode = torch.randint(len(means), (n,), generator=generator, device=device)
        return means[mode] + self.std * torch.randn(n, 2, generator=generator, device=device)

    def assign(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each point's nearest mode and whether it is of high quality (closer than 3 stds).

        Points with NaN or infinite coordinates are of low quality.
        """
        gaps = np.asarray(points, dtype=np.float64)[:, None, :] - self.means[None]
        distance = np.sqrt(np.sum(gaps**2, axis=-1))
        nearest = np.argmin(np.nan_to_num(distance, nan=np.inf), axis=1)
        return nearest, distance[np.arange(len(nearest)), nearest] < HQ_STDS * self.std

    def mode_counts(self, points: np.ndarray) -> np.ndarray:
        """High-quality points per mode, then, as the last entry, the low-quality ones."""
        nearest, hq = self.assign(points)
        return np.append(np.bincount(nearest[hq], minlength=len(self.means)), np.count_nonzero(~hq))

    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        """``hq_fraction``, ``modes_covered`` and ``reverse_kl`` = KL(p_hat || uniform) in nats,
        where p_hat is the share of high-quality points nearest to each mode.

        KL(p_hat || uniform) = log K - H(p_hat) lies in [0, log K]. With no high-quality point
        p_hat is undefined and ``reverse_kl`` is log K, the value of a collapse onto one mode:
        a generator that reaches no mode has learned no more of the spread than one that
        reaches a single mode, and a finite value keeps the logs valid JSON and plottable.
        """
        counts = self.mode_counts(fake)
        hq_counts, n_hq = counts[:-1], counts[:-1].sum()
        k = len(hq_counts)
        reverse_kl = math.log(k)
        if n_hq > 0:
            p = hq_counts[hq_counts > 0] / n_hq
            reverse_kl = float(np.sum(p * np.log(p * k)))
        return {
            "modes_covered": int(np.count_nonzero(hq_counts)),
            "hq_fraction": float(n_hq / len(fake)),
            "reverse_kl": max(reverse_kl, 0.0),  # rounding can leave -1e-17 for a uniform p_hat
        }

    def success(self, metrics: dict[str, float]) -> bool:
        """Every mode covered, hq_fraction at least min_hq_fraction, reverse_kl at most 0.02."""
        return (metrics["modes_covered"] == len(self.means) and metrics["hq_fraction"] >= self.min_hq_fraction
                and metrics["reverse_kl"] <= MAX_REVERSE_KL)

    def frame(self) -> tuple[float, float]:
        """Fixed axis limits (the same for x and y) so that successive snapshots compare."""
        half = 1.5 * float(np.abs(self.means).max()) + 10 * self.std
        return -half, half

    def draw_modes(self, ax: Any) -> None:
        """The mode means, each with a circle of radius 3 stds: its high-quality region."""
        from matplotlib.collections import EllipseCollection

        ax.add_collection(EllipseCollection(
            2 * HQ_STDS * self.std, 2 * HQ_STDS * self.std, 0, units="xy", offsets=self.means,
            offset_transform=ax.transData, facecolors="none", edgecolors="k", linewidths=0.8))
        ax.scatter(self.means[:, 0], self.means[:, 1], marker="+", c="k", s=40, lw=1,
                   label=f"mode means, {HQ_STDS:g}-std circles")

    def draw_samples(self, ax: Any, real: np.ndarray, fake: np.ndarray) -> None:
        low, high = self.frame()
        fake = np.asarray(fake)
        outside = int(np.count_nonzero(~np.all((fake >= low) & (fake <= high), axis=1)))
        ax.scatter(real[:, 0], real[:, 1], s=6, c="#0066ff", alpha=0.5, lw=0, label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=6, c="red", alpha=0.5, lw=0,
                   label=f"G(z), {outside} outside the frame" if outside else "G(z)")
        self.draw_modes(ax)
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize=8)

    def extra_figures(self, fake: np.ndarray, figures_dir: Path,
                      metrics: dict[str, Any] | None = None) -> list[Path]:
        """``mode_hist.png``: high-quality points per mode against the uniform share, and the
        low-quality points."""
        from matplotlib.figure import Figure

        counts = self.mode_counts(fake)
        k = len(self.means)
        given = bool(metrics) and "hq_fraction" in metrics
        source = "summary.json: the evaluation sample shown" if given else "this sample"
        m = metrics if given else self.metrics(fake)
        fig = Figure(figsize=(max(6.0, 0.3 * k + 2), 4))
        ax = fig.subplots()
        ax.bar(np.arange(k), counts[:-1], color="tab:red", alpha=0.7, label="high-quality points")
        ax.bar([k + 0.5], counts[-1:], color="0.5", label="low-quality points")
        ax.axhline(counts[:-1].sum() / k, c="k", ls="--", lw=1.5,
                   label="uniform share of the high-quality points")
        ax.set_xticks([*range(k), k + 0.5], [*map(str, range(k)), "LQ"], fontsize=7 if k > 10 else 9)
        ax.set_xlabel("mode")
        ax.set_ylabel(f"points (of {len(fake):,})")
        ax.set_title(f"{m['modes_covered']}/{k} modes covered, hq_fraction = {m['hq_fraction']:.3f}, "
                     f"reverse_kl = {m['reverse_kl']:.4f}\n({source})", fontsize=10)
        ax.legend(loc="best", fontsize=8)
        path = Path(figures_dir) / "mode_hist.png"
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        return [path]

    def discriminator_figure(self, discriminator: nn.Module, device: Any, path: Path) -> Path | None:
        if self.condition:  # D over the plane depends on the mode asked for: no one picture
            return None
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5.2, 4.4))
        ax = fig.subplots()
        image = draw_discriminator_heatmap(ax, self, discriminator, device)
        fig.colorbar(image, ax=ax, label="D(x), probability of real")
        ax.set_title("the discriminator over the plane (member 0)")
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        return path


@dataclass
class Ring(Mixture2D):
    """``n_modes`` Gaussians whose means lie on a circle of radius ``radius`` at the angles
    2 pi i / n_modes, i = 0 .. n_modes - 1 (n distinct angles; linspace(0, 2 pi, n) would
    repeat the first one and leave n - 1 modes)."""

    n_modes: int = 8
    radius: float = 1.0
    std: float = 0.01
    condition: tuple[str, ...] = ()

    name = "ring"
    preset = "ring"  # the config preset tuned for this task: `--data ring` alone uses it
    min_hq_fraction = 0.98

    def mode_means(self) -> np.ndarray:
        _at_least_one("n_modes", self.n_modes)
        _positive("radius", self.radius)
        angle = 2 * np.pi * np.arange(self.n_modes) / self.n_modes
        return self.radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)


@dataclass
class Grid(Mixture2D):
    """``per_side``^2 Gaussians whose means form a square grid of step ``spacing`` centred on 0."""

    per_side: int = 5
    spacing: float = 2.0
    std: float = 0.05
    condition: tuple[str, ...] = ()

    name = "grid"
    preset = "grid"
    min_hq_fraction = 0.95

    def mode_means(self) -> np.ndarray:
        _at_least_one("per_side", self.per_side)
        _positive("spacing", self.spacing)
        ticks = self.spacing * (np.arange(self.per_side) - (self.per_side - 1) / 2)
        return np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)


@torch.no_grad()
def draw_discriminator_heatmap(ax: Any, task: Mixture2D, discriminator: nn.Module,
                               device: torch.device | str, member: int = 0, resolution: int = 200) -> Any:
    """D's probability of "real", sigmoid(D(x)), over the task's frame (as in GAN Lab), with the
    mode means and their high-quality circles on top; returns the image for a colour bar.

    A packed D (PacGAN) scores ``pack`` points at once; here each of its inputs is ``pack``
    copies of one point of the plane. D runs in eval mode, so that drawing it does not advance
    spectral norm's power iteration, and goes back to the mode it was in.
    """
    low, high = task.frame()
    ticks = torch.linspace(low, high, resolution, device=device)
    ys, xs = torch.meshgrid(ticks, ticks, indexing="ij")
    points = torch.stack([xs.ravel(), ys.ravel()], dim=1).repeat(1, discriminator.pack)
    was_training = discriminator.training
    discriminator.eval()
    try:
        logits = discriminator(points.expand(discriminator.members, *points.shape))[member]
    finally:
        discriminator.train(was_training)
    image = ax.imshow(torch.sigmoid(logits).reshape(resolution, resolution).cpu().numpy(),
                      origin="lower", extent=(low, high, low, high), vmin=0, vmax=1, cmap="PiYG",
                      interpolation="bilinear")
    task.draw_modes(ax)
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_aspect("equal")
    return image
