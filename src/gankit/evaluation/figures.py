"""Figures of a run: the seed's picture at intervals, an animated GIF, curves of losses and
metrics (laid out by :mod:`gankit.evaluation.curves`), and the task's own figures. Everything
is drawn from the run folder's logs, so ``gankit plot`` can redraw it at any time, also after
a crash.

A number printed on a figure is the number in ``summary.json`` (the evaluation of the run),
and the task's histograms draw that evaluation's own sample (``Trainer.evaluation_samples``):
two different numbers for the same metric would leave the reader guessing which to trust.
matplotlib is imported inside the functions, so that ``import gankit`` does not pay for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.evaluation.curves import save_training_curves
from gankit.tasks import Task

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure(**kwargs: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def draw_snapshot(ax: Any, task: Task, snapshot: dict[str, Any], d_real_eval: float | None = None) -> None:
    """The seed's figure: real and generated samples with the step, mean D(real) and D loss.

    The snapshot's D values are those of that step's training batch; ``d_real_eval`` (the
    summary's ``d_real_mean``, on the evaluation sample) replaces them on the final figure.
    """
    task.draw_samples(ax, np.asarray(snapshot["real"]), np.asarray(snapshot["fake"]))
    if d_real_eval is None:
        text = (f"step = {snapshot['step']}\nmean D(real batch) = {snapshot['d_real']:.2f}\n"
                f"D loss (batch) = {snapshot['d_loss']:.2f}")
    else:
        text = f"step = {snapshot['step']}\nmean D(real) = {d_real_eval:.4f}\n(evaluation, summary.json)"
    ax.text(0.03, 0.97, text, transform=ax.transAxes, va="top", fontsize=11, family="monospace")


# Fixed margins for the one-panel snapshot: tight_layout measured every text on every frame and
# took as long as drawing the frame itself (docs/BENCHMARKS.md, figures).
SNAPSHOT_MARGINS = {"left": 0.1, "right": 0.97, "bottom": 0.08, "top": 0.97}


def _snapshot_figure(task: Task, snapshot: dict[str, Any], d_real_eval: float | None = None) -> Figure:
    fig = _figure(figsize=(6.4, 4.8))
    fig.subplots_adjust(**SNAPSHOT_MARGINS)
    draw_snapshot(fig.subplots(), task, snapshot, d_real_eval)
    return fig


def save_snapshot(task: Task, snapshot: dict[str, Any], path: Path, d_real_eval: float | None = None) -> Path:
    _snapshot_figure(task, snapshot, d_real_eval).savefig(path, dpi=100)
    return path


def save_progress_grid(task: Task, snapshots: Sequence[dict[str, Any]], path: Path,
                       panels: int = 6) -> Path:
    """Up to ``panels`` snapshots spread evenly over the run, side by side."""
    picks = np.linspace(0, len(snapshots) - 1, panels).round().astype(int)
    chosen = [snapshots[i] for i in sorted(set(picks))]
    cols = min(3, len(chosen))
    rows = -(-len(chosen) // cols)
    fig = _figure(figsize=(4.2 * cols, 3.4 * rows))
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


def _data_artists(ax: Any) -> list[Any]:
    """What a snapshot draws inside the axes, in drawing order: not the axes, ticks or spines."""
    artists = [*ax.lines, *ax.collections, *ax.images, *ax.patches, *ax.texts, ax.title]
    if ax.get_legend() is not None:
        artists.append(ax.get_legend())
    return sorted(artists, key=lambda a: a.get_zorder())


def gif_frames(task: Task, snapshots: Sequence[dict[str, Any]], dpi: int = 70) -> list[Any]:
    """The snapshots as RGB frames of one size.

    One figure serves every frame. Its axes (ticks, labels, spines: most of a frame's drawing)
    are drawn once and their pixels kept; each frame restores them and draws only its own
    curves, points or images on top. A snapshot that moves the axes' limits redraws them.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig = _figure(figsize=(6.4, 4.8), dpi=dpi)
    fig.subplots_adjust(**SNAPSHOT_MARGINS)
    canvas = FigureCanvasAgg(fig)
    ax = fig.subplots()
    frames, background, limits = [], None, None
    for snapshot in snapshots:
        ax.cla()
        draw_snapshot(ax, task, snapshot)
        data = _data_artists(ax)
        now = (ax.get_xlim(), ax.get_ylim(), ax.axison)
        if now != limits:
            for artist in data:
                artist.set_visible(False)
            canvas.draw()
            background, limits = canvas.copy_from_bbox(fig.bbox), now
            for artist in data:
                artist.set_visible(True)
        canvas.restore_region(background)
        for artist in data:
            ax.draw_artist(artist)
        rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        frames.append(rgba.convert("RGB"))
    return frames


def save_gif(task: Task, snapshots: Sequence[dict[str, Any]], path: Path, ms_per_frame: int = 400) -> Path:
    from PIL import Image

    frames = [f.convert("P", palette=Image.Palette.ADAPTIVE) for f in gif_frames(task, snapshots)]
    durations = [ms_per_frame] * (len(frames) - 1) + [ms_per_frame * 4]  # linger on the end
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0)
    return path


def save_sample_grid(task: Task, samples: Sequence[np.ndarray], titles: Sequence[str], path: Path,
                     max_cols: int = 8, panel_size: tuple[float, float] = (2.2, 1.9), dpi: int = 80) -> Path:
    """One panel of generated points per sample, over the same real points: the members of a
    population (``members.png``), or the configurations of a comparison (``comparison.png``)."""
    import torch

    real = task.sample(task.figure_points, torch.Generator().manual_seed(0)).numpy()
    cols = min(max_cols, len(samples))
    rows = -(-len(samples) // cols)
    fig = _figure(figsize=(panel_size[0] * cols, panel_size[1] * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, fake, title in zip(axes, samples, titles):
        task.draw_samples(ax, real, fake[: task.figure_points])
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.set_title(title, fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes[len(samples):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return path


def render_run(figures_dir: Path, task: Task, rows: Sequence[dict[str, Any]],
               snapshots: Sequence[dict[str, Any]], member_samples: Sequence[np.ndarray],
               summary: dict[str, Any] | None = None,
               discriminator: Callable[[Path], Path | None] | None = None,
               conditions: Callable[[Path], Path | None] | None = None) -> list[Path]:
    """Every figure of a run, from its logs, its summary and a final sample of each member.

    The numbers on the figures are the summary's (member 0's where there are several); a run
    without a summary yet (stopped early) shows numbers computed on the sample drawn, and
    says so. ``discriminator`` draws the task's picture of D to the path it is given,
    ``conditions`` a conditional run's samples by condition (``Task.condition_figure``).
    A folder that cannot be written is answered with one line, not a traceback.
    """
    first = MemberMetrics.from_row(summary).member(0) if summary else None
    try:
        figures_dir.mkdir(parents=True, exist_ok=True)
        written = []
        if snapshots:
            d_real = first.get("d_real_mean") if first else None
            written.append(save_snapshot(task, snapshots[-1], figures_dir / "final.png", d_real))
            written.append(save_progress_grid(task, snapshots, figures_dir / "progress.png"))
            written.append(save_gif(task, snapshots, figures_dir / "training.gif"))
        if rows:
            written.append(save_training_curves(rows, figures_dir / "curves.png"))
        if member_samples:
            written.extend(task.extra_figures(member_samples[0], figures_dir, metrics=first))
        if len(member_samples) > 1:
            titles = [f"member {i}" for i in range(len(member_samples))]
            written.append(save_sample_grid(task, member_samples, titles, figures_dir / "members.png"))
        for draw, name in ((discriminator, "discriminator.png"), (conditions, "by_condition.png")):
            drawn = draw(figures_dir / name) if draw is not None else None
            written += [drawn] if drawn is not None else []
    except OSError as exc:
        raise GankitError(f"cannot write the figures in '{figures_dir}': {exc.strerror or exc}") from None
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
