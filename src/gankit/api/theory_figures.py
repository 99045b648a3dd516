"""The theory lab's figures (``gankit.api.theory``): drawing only.

Every number a figure shows comes in as an argument, computed by the experiments themselves, so
this module depends on no closed form and the experiments' results never depend on plotting.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from gankit.tasks.mixture1d import Mixture1D


def plot_grid(task: Mixture1D) -> np.ndarray:
    """The x values at which a run's densities and D are drawn."""
    return np.linspace(task.edges[0], task.edges[-1], 400)


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def plot_optimal_d(path: Path, x: np.ndarray, dens_r: np.ndarray, dens_g: np.ndarray, d_star: np.ndarray,
                   region: np.ndarray, untrained: np.ndarray, trained: np.ndarray, error: float) -> None:
    """Experiment 1: both densities, D* and the discriminator before and after training."""
    fig = Figure(figsize=(7, 6))
    top, bottom = fig.subplots(2, 1, sharex=True)
    top.plot(x, dens_r, c="tab:blue", lw=2, label="p_r (two-Gaussian mixture)")
    top.plot(x, dens_g, c="tab:red", lw=2, label="p_g (fixed Gaussian)")
    top.set_ylabel("density")
    top.legend(fontsize=8)
    for ax in (top, bottom):
        ax.fill_between(x, 0, 1, where=region, transform=ax.get_xaxis_transform(), color="0.92",
                        label="compared region" if ax is bottom else None)
    bottom.plot(x, d_star, c="k", lw=2.5, label="D*(x) = p_r / (p_r + p_g)")
    bottom.plot(x, trained, c="tab:orange", lw=1.5, ls="--", label="trained D(x)")
    bottom.plot(x, untrained, c="0.5", lw=1, ls=":", label="D(x) before training")
    bottom.axhline(0.5, c="k", lw=0.5, ls=":")
    bottom.set_ylim(0, 1)
    bottom.set_xlabel("x")
    bottom.set_ylabel("D(x)")
    bottom.set_title(f"Proposition 1: mean |D - D*| over the shaded region = {error:.4f}", fontsize=10)
    bottom.legend(fontsize=8, loc="lower right")
    _save(fig, path)


def plot_value(path: Path, x: np.ndarray, dens_r: np.ndarray, dens_g: Sequence[np.ndarray],
               curve: tuple[np.ndarray, Sequence[float]], result: dict[str, Any], floor: float,
               gap_target: float) -> None:
    """Experiment 2: the p_g sequence (``dens_g``, one per ``result["t"]``), Theorem 1's C(G) along
    the whole path (``curve``: t and C(G)) against the measured V, and the gaps. ``floor`` is
    -log 4."""
    fig = Figure(figsize=(14, 4.2))
    left, right, gaps = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 0.8]})
    colors = [(0.85 * (1 - t), 0.2, 0.85 * t) for t in result["t"]]
    for t, color, dens in zip(result["t"], colors, dens_g):
        left.plot(x, dens, c=color, lw=1.2, label=f"p_g, t = {t:g}")
    left.plot(x, dens_r, c="k", lw=2, ls="--", label="p_r")
    left.set_xlabel("x")
    left.set_title("p_g = (1 - t) Gaussian + t p_r", fontsize=10)
    left.legend(fontsize=7)
    right.plot(*curve, c="k", lw=2, label="C(G) = -log 4 + 2 JSD(p_r || p_g), integrated")
    right.scatter(result["t"], result["v_estimate"], c=colors, s=60, zorder=3, marker="o",
                  label="V(D, G), trained D, Monte Carlo")
    right.scatter(result["t"], result["v_optimal_mc"], c="w", edgecolors="k", s=18, zorder=4,
                  label="V(D*, G), Monte Carlo on the same draws")
    right.axhline(floor, c="tab:green", ls=":", label="-log 4")
    right.set_xlabel("t")
    right.set_ylabel("nats")
    right.set_title("Theorem 1: C(G) reaches -log 4 at p_g = p_r", fontsize=10)
    right.legend(fontsize=7)
    gaps.axhline(0, c="k", lw=0.5)
    for sign in (-1, 1):
        gaps.axhline(sign * gap_target, c="tab:red", ls=":", lw=1, label="target" if sign > 0 else None)
    gaps.plot(result["t"], result["gap"], "o-", c="tab:purple", label="C(G) - V(D, G), trained D")
    gaps.plot(result["t"], [c - v for c, v in zip(result["c_g"], result["v_optimal_mc"])], "s:",
              c="0.4", ms=4, label="C(G) - V(D*, G): Monte Carlo noise alone")
    gaps.set_xlabel("t")
    gaps.set_ylabel("nats")
    gaps.set_title(f"largest |C(G) - V| = {result['max_abs_gap']:.4f} nats", fontsize=10)
    gaps.legend(fontsize=7)
    _save(fig, path)


def plot_training(path: Path, runs: dict[str, Any], floor: float) -> None:
    """Experiment 3's curves, one column per generator loss (the keys of ``runs``, in order)."""
    fig = Figure(figsize=(10, 10.5))
    axes = fig.subplots(4, 2, sharex=True, sharey="row")
    for col, loss in enumerate(runs):
        c = runs[loss]["curves"]
        steps = np.maximum(c["step"], 0.8)  # the step-0 probe sits just left of 1 on the log axis
        ax = axes[0, col]
        ax.plot(steps, c["d_real"], c="tab:blue", label="mean D(x), x real")
        ax.plot(steps, c["d_fake"], c="tab:red", label="mean D(G(z))")
        ax.axhline(0.5, c="k", ls=":", lw=1)
        ax.set_ylim(0, 1)
        ax.set_title(f"{loss} generator loss", fontsize=11)
        ax = axes[1, col]
        ax.plot(steps, c["v_estimate"], c="tab:purple", label="V(D, G), Monte Carlo")
        ax.axhline(floor, c="tab:green", ls=":", label="-log 4")
        ax = axes[2, col]
        ax.plot(steps, c["jsd"], c="k", label="JSD(p_r || p_g), binned")
        ax.set_yscale("log")
        ax = axes[3, col]
        ax.plot(steps, c["grad_minimax"], c="tab:orange", label="of eq. (3), log(1 - D(G(z)))")
        ax.plot(steps, c["grad_nonsaturating"], c="tab:cyan", label="of -log D(G(z))")
        sat = runs[loss]["saturation"]
        ax.annotate(f"step {sat['step']}: D(G(z)) = {sat['d_fake']:.2f},\n"
                    f"eq. (3)'s gradient {sat['ratio']:.1f}x weaker",
                    (max(sat["step"], 0.8), sat["grad_minimax"]), xytext=(0.03, 0.06),
                    textcoords="axes fraction", fontsize=8, arrowprops={"arrowstyle": "->", "lw": 0.8})
        ax.set_yscale("log")
        ax.set_xscale("log")
        ax.set_xlabel("step (log scale)")
    for row, label in enumerate(["discriminator output", "value of the game", "JSD (nats)",
                                 "|grad_theta| of G's losses\n(same G and D)"]):
        axes[row, 0].set_ylabel(label)
        for col in range(2):
            axes[row, col].legend(fontsize=7, loc="best")
    _save(fig, path)


def plot_training_densities(path: Path, runs: dict[str, Any]) -> None:
    """Experiment 3's snapshots: p_g's histogram, p_r and D, one row per generator loss."""
    count = len(next(iter(runs.values()))["snapshots"])
    fig = Figure(figsize=(2.6 * count, 5))
    axes = fig.subplots(2, count, sharex=True, sharey=True)
    for row, loss in enumerate(runs):
        task = runs[loss]["task"]
        grid = plot_grid(task)
        for ax, snap in zip(axes[row], runs[loss]["snapshots"]):
            # np.histogram and one filled outline: ax.hist would draw 60 bars per panel, slowly
            counts, edges = np.histogram(np.clip(snap["fake"], grid[0], grid[-1]), bins=60,
                                         range=(grid[0], grid[-1]), density=True)
            ax.stairs(counts, edges, fill=True, color="tab:red", alpha=0.5, label="p_g (histogram)")
            ax.plot(grid, task.density(grid), c="tab:blue", lw=1.5, label="p_r")
            ax.plot(grid, snap["d"], c="k", lw=1, ls="--", label="D(x)")
            ax.set_ylim(0, 1.2)
            ax.set_title(f"{loss}, step {snap['step']}", fontsize=8)
    axes[0, 0].legend(fontsize=6, loc="upper left")
    _save(fig, path)
