"""Figures of a run: the seed's picture at intervals, an animated GIF, curves of losses and
metrics, and the task's own figures. Everything is drawn from the run folder's logs, so
``gankit plot`` can redraw it at any time, also after a crash.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from gankit.memberstats import MemberMetrics
from gankit.tasks import Task

TRAINING_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "elapsed_s", "step")


def draw_snapshot(ax: Any, task: Task, snapshot: dict[str, Any]) -> None:
    """The seed's figure: real and generated samples with the step, mean D(real) and D loss."""
    task.draw_samples(ax, np.asarray(snapshot["real"]), np.asarray(snapshot["fake"]))
    ax.text(0.03, 0.97, f"step = {snapshot['step']}\nmean D(real) = {snapshot['d_real']:.2f}\n"
            f"D loss = {snapshot['d_loss']:.2f}", transform=ax.transAxes, va="top", fontsize=11,
            family="monospace")


def _snapshot_figure(task: Task, snapshot: dict[str, Any]) -> Figure:
    fig = Figure(figsize=(6.4, 4.8))
    draw_snapshot(fig.subplots(), task, snapshot)
    fig.tight_layout()
    return fig


def save_snapshot(task: Task, snapshot: dict[str, Any], path: Path) -> Path:
    _snapshot_figure(task, snapshot).savefig(path, dpi=100)
    return path


def save_progress_grid(task: Task, snapshots: Sequence[dict[str, Any]], path: Path,
                       panels: int = 6) -> Path:
    """Up to ``panels`` snapshots spread evenly over the run, side by side."""
    picks = np.linspace(0, len(snapshots) - 1, panels).round().astype(int)
    chosen = [snapshots[i] for i in sorted(set(picks))]
    cols = min(3, len(chosen))
    rows = -(-len(chosen) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.4 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, snapshot in zip(axes, chosen):
        draw_snapshot(ax, task, snapshot)
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    for ax in axes[len(chosen):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def save_gif(task: Task, snapshots: Sequence[dict[str, Any]], path: Path, ms_per_frame: int = 400) -> Path:
    from PIL import Image

    frames = []
    for snapshot in snapshots:
        buffer = io.BytesIO()
        _snapshot_figure(task, snapshot).savefig(buffer, format="png", dpi=70)
        buffer.seek(0)
        frames.append(Image.open(buffer).convert("P", palette=Image.Palette.ADAPTIVE))
    durations = [ms_per_frame] * (len(frames) - 1) + [ms_per_frame * 4]  # linger on the end
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path


def save_training_curves(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Losses, mean D outputs and every evaluated metric against the step."""
    metric_keys = sorted(k for k in set().union(*rows) if k not in TRAINING_KEYS
                         and any(isinstance(r.get(k), (int, float)) for r in rows))
    records = [(r["step"], MemberMetrics.from_row(r)) for r in rows]
    population = records[-1][1].members > 1
    panels = 2 + len(metric_keys)
    cols = 3
    fig = Figure(figsize=(4.2 * cols, 3.0 * -(-panels // cols)))
    axes = np.atleast_1d(fig.subplots(-(-panels // cols), cols)).ravel()

    def series(key: str) -> tuple[list[int], list[float]]:
        pts = [(r["step"], r[key]) for r in rows if isinstance(r.get(key), (int, float))]
        return [p[0] for p in pts], [p[1] for p in pts]

    for key in ("d_loss", "g_loss"):
        axes[0].plot(*series(key), label=key)
    axes[0].set_title("losses")
    axes[0].legend(fontsize=8)
    for key in ("d_real", "d_fake"):
        axes[1].plot(*series(key), label=f"mean D on {key[2:]} batch")
    axes[1].axhline(0.5, c="k", ls=":", lw=1, label="1/2 (equilibrium)")
    axes[1].set_ylim(0, 1)
    axes[1].set_title("discriminator output")
    axes[1].legend(fontsize=8)
    for ax, key in zip(axes[2:], metric_keys):
        steps, values = series(key)
        ax.plot(steps, values, marker=".", label="median over members" if population else None)
        if population:
            band = [(step, record.spread(key)) for step, record in records if key in record.values]
            ax.fill_between([b[0] for b in band], [b[1].q1 for b in band], [b[1].q3 for b in band],
                            alpha=0.25, label="interquartile range")
            ax.legend(fontsize=7)
        if values and min(values) > 0 and max(values) / min(values) > 20:
            ax.set_yscale("log")
        ax.set_title(key)
    for ax in axes[panels:]:
        ax.axis("off")
    for ax in axes[:panels]:
        ax.set_xlabel("step")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path


def save_member_grid(task: Task, samples: Sequence[np.ndarray], path: Path) -> Path:
    """One panel per member: the population's spread of outcomes at a glance."""
    import torch

    real = task.sample(task.figure_points, torch.Generator().manual_seed(0)).numpy()
    cols = min(8, len(samples))
    rows = -(-len(samples) // cols)
    fig = Figure(figsize=(2.2 * cols, 1.9 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for i, (ax, fake) in enumerate(zip(axes, samples)):
        task.draw_samples(ax, real, fake[: task.figure_points])
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.set_title(f"member {i}", fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes[len(samples):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path


def render_run(figures_dir: Path, task: Task, rows: Sequence[dict[str, Any]],
               snapshots: Sequence[dict[str, Any]], member_samples: Sequence[np.ndarray]) -> list[Path]:
    """Every figure of a run, from its logs and a final sample of each member."""
    figures_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if snapshots:
        written.append(save_snapshot(task, snapshots[-1], figures_dir / "final.png"))
        written.append(save_progress_grid(task, snapshots, figures_dir / "progress.png"))
        written.append(save_gif(task, snapshots, figures_dir / "training.gif"))
    if rows:
        written.append(save_training_curves(rows, figures_dir / "curves.png"))
    if member_samples:
        written.extend(task.extra_figures(member_samples[0], figures_dir))
    if len(member_samples) > 1:
        written.append(save_member_grid(task, member_samples, figures_dir / "members.png"))
    return written


def has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class LivePlot:
    """The seed's ``plt.ion()`` window, redrawn at each snapshot."""

    def __init__(self, task: Task) -> None:
        import matplotlib.pyplot as plt

        self.plt = plt
        self.task = task
        plt.ion()
        self.fig, self.ax = plt.subplots(figsize=(6.4, 4.8))

    def update(self, snapshot: dict[str, Any]) -> None:
        self.ax.cla()
        draw_snapshot(self.ax, self.task, snapshot)
        self.fig.canvas.draw_idle()
        self.plt.pause(0.02)

    def close(self) -> None:
        self.plt.ioff()
        self.plt.show()
