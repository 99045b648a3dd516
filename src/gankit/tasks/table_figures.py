"""Figures of a table run: each column real vs generated, the correlation matrices side by side
with their difference, and a PCA projection of whole rows. Real means the held-out rows.

In ``columns.png`` a heavy-tailed number column (:func:`axis_scale`) is drawn on a log axis, or
a symlog axis where it holds values <= 0, with bins of equal width on that axis; a category
column's bars are labelled by their values (:func:`category_ticks`), at most ``MAX_LABELS`` of
them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit.tasks.table_data import MAX_ROWS, TableData, subsample

if TYPE_CHECKING:
    from gankit.tasks.table_codec import Column

MAX_PANELS = 24  # columns drawn in columns.png; wider tables show their first ones
REAL, FAKE = "#0066ff", "tab:red"
BINS = 30
# A histogram's axis spans the column's range; when that is more than HEAVY_TAIL times as wide as
# the central 90% of the values (5th to 95th percentile), nine rows in ten fall in at most 30/4
# of the 30 bins and the tail's bins are empty-looking slivers: the shape is lost on a linear
# axis. Measured on 2000 values (the figure's sample), a normal column gives about 2 (1% of seeds
# above 2.5), an exponential 2.7 (1% above 4.3), a lognormal of sigma 1 about 6 (10% below 4.3),
# Student's t with 3 degrees of freedom 7. The ratio reads quantiles and the range only, so it
# needs no threshold on moments that one outlier can move without changing the picture.
HEAVY_TAIL = 4.0
MAX_LABELS = 20  # category labels on one panel; more categories label every k-th bar
LABEL_CHARS = 12


def axis_scale(values: np.ndarray, low: float | None = None,
               high: float | None = None) -> tuple[str, dict[str, float]]:
    """The x scale of a number column's histogram, and its keywords for ``set_xscale``:
    ``linear`` unless the column is heavy-tailed (see ``HEAVY_TAIL``), then ``log`` where every
    value is positive, else ``symlog``, linear within the median magnitude of the non-zero values.

    ``values`` are the column's real values (missing ones are ignored); ``low``/``high`` the
    axis' range, the values' own range by default.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return "linear", {}
    low = float(x.min()) if low is None else min(low, float(x.min()))
    high = float(x.max()) if high is None else max(high, float(x.max()))
    p5, p95 = np.percentile(x, [5, 95])
    if high <= low or high - low <= HEAVY_TAIL * (p95 - p5):
        return "linear", {}
    if low > 0:
        return "log", {}
    nonzero = np.abs(x[x != 0])
    return "symlog", {"linthresh": float(np.median(nonzero)) if nonzero.size else 1.0}


def _bins(ax: Any, low: float, high: float, bins: int = BINS) -> np.ndarray:
    """``bins`` + 1 edges from ``low`` to ``high``, equally spaced on ``ax``'s x scale."""
    scale = ax.xaxis.get_transform()
    ends = scale.transform(np.array([[low], [high]], dtype=np.float64))[:, 0]
    edges = scale.inverted().transform(np.linspace(ends[0], ends[1], bins + 1)[:, None])[:, 0]
    edges[0], edges[-1] = low, high
    return edges


def _symlog_ticks(low: float, high: float, linthresh: float) -> list[float]:
    """0 and the powers of ten beyond the linear part, on each side the range reaches: matplotlib's
    own symlog ticks crowd the linear part with decades below ``linthresh``."""
    top = max(abs(low), abs(high))
    first = math.ceil(math.log10(linthresh))
    decades = [10.0 ** k for k in range(first, math.floor(math.log10(top)) + 1)] if top > 0 else []
    return [-d for d in reversed(decades) if -d >= low] + [0.0] + [d for d in decades if d <= high]


def category_ticks(labels: Sequence[str], most: int = MAX_LABELS) -> tuple[list[int], list[str]]:
    """Where to label a category column's bars, and with what: the categories' own values (cut
    to ``LABEL_CHARS``), every one when there are at most ``most``, else every k-th, the
    ``missing`` category (last) always among them."""
    n = len(labels)
    missing = n > most and labels[-1] == "missing"
    shown = n - missing
    step = math.ceil(shown / (most - missing))
    positions = list(range(0, shown, step)) + ([n - 1] if missing else [])
    texts = [labels[i] if len(labels[i]) <= LABEL_CHARS else labels[i][:LABEL_CHARS - 1] + "…"
             for i in positions]
    return positions, texts


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


def draw_categories(ax: Any, column: Column, real: np.ndarray, fake: np.ndarray) -> None:
    """The share of each category, held-out beside generated, labelled by the categories."""
    labels = [str(v) for v in column.categories] + (["missing"] if column.has_missing else [])
    x = np.arange(column.width)
    for values, shift, colour, label in ((real, -0.2, REAL, "held-out"), (fake, 0.2, FAKE, "generated")):
        shares = np.bincount(values, minlength=column.width) / max(len(values), 1)
        ax.bar(x + shift, shares, 0.4, color=colour, label=label)
    positions, texts = category_ticks(labels)
    if len(labels) > 12:
        ax.set_xticks(positions, texts, rotation=90, fontsize=6)
    else:  # rotated only when they would run into each other
        turn = max(map(len, texts)) > 3
        ax.set_xticks(positions, texts, rotation=45 if turn else 0, ha="right" if turn else "center",
                      fontsize=7)


def draw_numbers(ax: Any, column: Column, real: np.ndarray, fake: np.ndarray, bins: int = BINS,
                 whole: np.ndarray | None = None) -> str:
    """Histograms of held-out and generated values, each bar the share of its rows, on the scale
    :func:`axis_scale` picks for the held-out values ``whole`` (by default ``real``), with
    ``bins`` of equal width on that scale; returns the scale's name."""
    real, fake = real[~np.isnan(real)], fake[~np.isnan(fake)]
    whole = real if whole is None else whole[~np.isnan(whole)]
    low, high = column.low, column.high
    if whole.size:  # held-out values may reach beyond the training rows' range
        low, high = min(low, float(whole.min())), max(high, float(whole.max()))
    scale, options = axis_scale(whole, low, high)
    ax.set_xscale(scale, **options)
    ticks = _symlog_ticks(low, high, options["linthresh"]) if scale == "symlog" else []
    if len(ticks) > 1:
        ax.set_xticks(ticks)
    edges = _bins(ax, low, high, bins)
    for values, colour, label in ((real, REAL, "held-out"), (fake, FAKE, "generated")):
        ax.hist(values, bins=edges, weights=np.full(len(values), 1 / max(len(values), 1)),
                color=colour, alpha=0.5, label=label)
    return scale


def _columns_figure(columns: list[Column], real: list[np.ndarray], fake: list[np.ndarray],
                    path: Path) -> Path:
    from matplotlib.figure import Figure

    columns = columns[:MAX_PANELS]
    cols = min(4, len(columns))
    rows = -(-len(columns) // cols)
    fig = Figure(figsize=(3.4 * cols, 2.6 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, column, r, f in zip(axes, columns, real, fake):
        ax.tick_params(labelsize=7)
        if column.categorical:
            draw_categories(ax, column, r, f)
            title = f"{column.name} ({column.kind})"
        else:
            scale = draw_numbers(ax, column, r, f)
            title = f"{column.name} ({column.kind}" + (")" if scale == "linear" else f", {scale} axis)")
        ax.set_title(title, fontsize=9)
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
