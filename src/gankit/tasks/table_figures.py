"""Figures of a table run: each column real vs generated, the correlation matrices side by side
with their difference, and a PCA projection of whole rows. Real means the held-out rows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit.tasks.table_data import MAX_ROWS, TableData, subsample

if TYPE_CHECKING:
    from gankit.tasks.table_codec import Column

MAX_PANELS = 24  # columns drawn in columns.png; wider tables show their first ones
REAL, FAKE = "#0066ff", "tab:red"


def _projection(data: TableData) -> tuple[np.ndarray, np.ndarray]:
    """The mean and the two leading principal axes of the training rows (fixed per table)."""
    def make() -> tuple[np.ndarray, np.ndarray]:
        rows = data.train_rows.astype(np.float64)
        rows = rows[np.random.default_rng(0).permutation(len(rows))[:5000]]
        mean = rows.mean(axis=0)
        _, _, vt = np.linalg.svd(rows - mean, full_matrices=False)
        axes = vt[:2].T if vt.shape[0] >= 2 else np.pad(vt.T, ((0, 0), (0, 1)))
        return mean, axes

    return data.cached("pca", make)


def draw_projection(ax: Any, data: TableData, real: np.ndarray, fake: np.ndarray) -> None:
    """Real and generated rows (encoded) on the training rows' first two principal components."""
    mean, axes = _projection(data)
    for rows, colour, label, size in ((real, REAL, "real rows", 10), (fake, FAKE, "generated", 10)):
        if len(rows):
            points = (data.harden(rows.reshape(len(rows), -1)) - mean) @ axes
            ax.scatter(points[:, 0], points[:, 1], s=size, c=colour, alpha=0.5, label=label, lw=0)
    ax.set_xlabel("PC 1 (training rows)")
    ax.set_ylabel("PC 2")
    ax.legend(loc="upper right", fontsize=8)


def _columns_figure(columns: list[Column], real: list[np.ndarray], fake: list[np.ndarray],
                    path: Path) -> Path:
    from matplotlib.figure import Figure

    columns = columns[:MAX_PANELS]
    cols = min(4, len(columns))
    rows = -(-len(columns) // cols)
    fig = Figure(figsize=(3.4 * cols, 2.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, column, r, f in zip(axes, columns, real, fake):
        if column.categorical:
            labels = [str(v) for v in column.categories] + (["missing"] if column.has_missing else [])
            p = np.bincount(r, minlength=column.width) / len(r)
            q = np.bincount(f, minlength=column.width) / len(f)
            x = np.arange(column.width)
            ax.bar(x - 0.2, p, 0.4, color=REAL, label="held-out")
            ax.bar(x + 0.2, q, 0.4, color=FAKE, label="generated")
            if column.width <= 12:
                ax.set_xticks(x, [label[:8] for label in labels], rotation=45, fontsize=7)
        else:
            r, f = r[~np.isnan(r)], f[~np.isnan(f)]
            bins = np.linspace(column.low, column.high, 31)
            ax.hist(r, bins=bins, density=True, color=REAL, alpha=0.5, label="held-out")
            ax.hist(f, bins=bins, density=True, color=FAKE, alpha=0.5, label="generated")
        ax.set_title(f"{column.name} ({column.kind})", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    for ax in axes[len(columns):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path


def _correlations(views: list[np.ndarray]) -> np.ndarray:
    """Pearson correlations of the columns, categories by their codes (a picture, not a metric)."""
    matrix = np.column_stack([v.astype(np.float64) for v in views])
    matrix = np.where(np.isnan(matrix), np.nanmean(matrix, axis=0), matrix)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(matrix, rowvar=False)
    return np.nan_to_num(np.atleast_2d(corr))


def _correlation_figure(columns: list[Column], real: list[np.ndarray], fake: list[np.ndarray],
                        path: Path, metrics: dict[str, Any] | None) -> Path:
    from matplotlib.figure import Figure

    names = [c.name for c in columns][:50]
    a, b = _correlations(real[:50]), _correlations(fake[:50])
    fig = Figure(figsize=(15, 5))
    axes = fig.subplots(1, 3)
    for ax, matrix, title, cmap, scale in ((axes[0], a, "held-out rows", "coolwarm", 1),
                                           (axes[1], b, "generated rows", "coolwarm", 1),
                                           (axes[2], b - a, "generated - held-out", "PiYG", 1)):
        image = ax.imshow(matrix, cmap=cmap, vmin=-scale, vmax=scale)
        ax.set_title(title, fontsize=10)
        if len(names) <= 20:
            ax.set_xticks(range(len(names)), [n[:10] for n in names], rotation=90, fontsize=7)
            ax.set_yticks(range(len(names)), [n[:10] for n in names], fontsize=7)
        fig.colorbar(image, ax=ax, shrink=0.8)
    if metrics and "column_pair_trends" in metrics:
        fig.suptitle(f"column_pair_trends = {metrics['column_pair_trends']:.4f} "
                     f"(floor {metrics.get('column_pair_trends_floor', float('nan')):.4f}; summary.json)")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    return path


def table_figures(data: TableData, fake: np.ndarray, figures_dir: Path,
                  metrics: dict[str, Any] | None = None) -> list[Path]:
    """columns.png, correlations.png and projection.png of generated rows ``fake`` (G's encoded
    output) against the held-out rows, in ``figures_dir``; returns their paths."""
    from matplotlib.figure import Figure

    # the metrics' own subsamples (same seeds), so that the figures show the rows they scored
    real = subsample(data.holdout_rows, MAX_ROWS, 0)
    fake = data.harden(subsample(fake.reshape(len(fake), -1), MAX_ROWS, 0))
    real_views, fake_views = data.codec.views(real), data.codec.views(fake)
    columns = data.codec.modelled
    written = [_columns_figure(columns, real_views, fake_views, figures_dir / "columns.png"),
               _correlation_figure(columns, real_views, fake_views, figures_dir / "correlations.png",
                                   metrics)]
    fig = Figure(figsize=(6, 5))
    ax = fig.subplots()
    draw_projection(ax, data, real, fake)
    if metrics and "quality_score" in metrics:
        ax.set_title(f"quality_score {metrics['quality_score']:.3f}, detection_auc "
                     f"{metrics.get('detection_auc', float('nan')):.3f} (summary.json)", fontsize=9)
    fig.tight_layout()
    path = figures_dir / "projection.png"
    fig.savefig(path, dpi=90)
    return [*written, path]
