"""``curves.png``: losses, discriminator outputs and every evaluated metric against the step,
drawn from the rows of ``metrics.jsonl`` (the run's figures and ``gankit report`` both use it).

Which panels there are is decided by :func:`plan_curves` from the rows alone, so that it can be
checked without drawing:

- two panels always: the losses, and D's mean output (lines: the training batches; markers: the
  evaluation sample, ``d_real_mean`` and ``d_fake_mean``);
- one panel for each metric whose value changes over at least two evaluations; its noise floor
  (``NAME_floor``, the metric between two real samples) is a dashed line on that panel;
- a noise floor never gets a panel of its own, and neither does a metric with a single
  evaluation or one value throughout (a flat line or one dot says nothing a number cannot):
  those are listed, with their floors, in one table panel of their last values.

A 300-step run evaluated once at its end is therefore three panels (losses, D outputs, the
table of its metrics), not a panel of one dot for each metric and each floor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gankit.core.memberstats import MemberMetrics

FLOOR = "_floor"
TRAINING_KEYS = ("d_loss", "g_loss", "d_real", "d_fake", "elapsed_s", "step")
EVALUATION_D_KEYS = ("d_real_mean", "d_fake_mean")  # drawn on the D output panel
FEW_POINTS = 12  # a series of at most this many points is drawn with markers large enough to see
TABLE_LINES = 14  # metrics listed in one table panel; more continue in the next one
COLUMNS = 3


@dataclass(frozen=True)
class MetricPanel:
    """One metric of the figure: its key, and its floor's key when the rows log one."""

    key: str
    floor: str | None = None


@dataclass(frozen=True)
class CurvesPlan:
    """``curves``: the metrics with a panel each; ``table``: the metrics listed by their last
    value in the table panel(s) instead (one evaluation, or the same value every time)."""

    curves: tuple[MetricPanel, ...]
    table: tuple[MetricPanel, ...]

    @property
    def table_panels(self) -> int:
        return -(-len(self.table) // TABLE_LINES)

    @property
    def panels(self) -> int:
        """Every panel drawn: losses, D outputs, one per curve, the table's."""
        return 2 + len(self.curves) + self.table_panels


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def series(rows: Sequence[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """The steps at which ``key`` was logged and its values there."""
    points = [(r["step"], float(r[key])) for r in rows if _number(r.get(key))]
    return [p[0] for p in points], [p[1] for p in points]


def plan_curves(rows: Sequence[dict[str, Any]]) -> CurvesPlan:
    """Which metrics of ``rows`` get a panel, and which are listed in the table (module doc)."""
    keys = sorted(k for k in set().union(*rows) if k not in TRAINING_KEYS and k not in EVALUATION_D_KEYS
                  and not k.endswith(FLOOR) and any(_number(r.get(k)) for r in rows))
    curves, table = [], []
    for key in keys:
        floor = key + FLOOR if any(_number(r.get(key + FLOOR)) for r in rows) else None
        finite = {v for v in series(rows, key)[1] if math.isfinite(v)}
        (curves if len(finite) >= 2 else table).append(MetricPanel(key, floor))
    return CurvesPlan(tuple(curves), tuple(table))


def _markers(points: int, lines: bool = False) -> dict[str, Any]:
    """Markers that show a point of a short series; a long one's line alone (``lines``) or small dots."""
    if points <= FEW_POINTS:
        return {"marker": "o", "ms": 5}
    return {} if lines else {"marker": ".", "ms": 3}


def _draw_floor(ax: Any, rows: Sequence[dict[str, Any]], floor: str) -> list[float]:
    """The floor as a dashed line: horizontal where every evaluation measured the same value,
    else through the values measured (a floor depends on the number of samples evaluated)."""
    steps, values = series(rows, floor)
    if len(set(values)) == 1:
        ax.axhline(values[0], c="0.3", ls="--", lw=1.2, label="floor (real vs real)")
    else:
        ax.plot(steps, values, c="0.3", ls="--", lw=1.2, label="floor (real vs real)")
    return values


def _draw_metric(ax: Any, rows: Sequence[dict[str, Any]], records: list[tuple[int, MemberMetrics]],
                 metric: MetricPanel, population: bool) -> None:
    steps, values = series(rows, metric.key)
    ax.plot(steps, values, label="median over members" if population else None, **_markers(len(values)))
    if population:
        band = [(step, record.spread(metric.key)) for step, record in records if metric.key in record.values]
        ax.fill_between([b[0] for b in band], [b[1].q1 for b in band], [b[1].q3 for b in band],
                        alpha=0.25, label="interquartile range")
    shown = values + (_draw_floor(ax, rows, metric.floor) if metric.floor else [])
    finite = [v for v in shown if math.isfinite(v)]
    if finite and min(finite) > 0 and max(finite) / min(finite) > 20:
        ax.set_yscale("log")
    if population or metric.floor:
        ax.legend(fontsize=7)
    ax.set_title(metric.key)


def _table_text(rows: Sequence[dict[str, Any]], table: Sequence[MetricPanel]) -> tuple[list[str], bool]:
    """The table's lines: a header, then one per metric (its last value, and its floor where any
    metric has one); and whether a metric is marked as the same at every evaluation."""
    width = min(26, max(len(m.key) for m in table))
    floors = any(m.floor for m in table)
    lines = [f"{'metric':<{width}} {'value':>9}" + (f"  {'floor':>9}" if floors else "")]
    constant = False
    for metric in table:
        values = series(rows, metric.key)[1]
        same = len(values) > 1 and len(set(values)) == 1
        constant = constant or same
        line = f"{metric.key[:width]:<{width}} {values[-1]:>9.4g}" + ("*" if same else " ")
        if floors:
            line += f" {series(rows, metric.floor)[1][-1]:>9.4g}" if metric.floor else f" {'-':>9}"
        lines.append(line)
    return lines, constant


def _draw_table(axes: Sequence[Any], rows: Sequence[dict[str, Any]], plan: CurvesPlan,
                population: bool) -> None:
    """The metrics without a curve, by their last value, with their floors."""
    (header, *lines), constant = _table_text(rows, plan.table)
    last = {series(rows, m.key)[0][-1] for m in plan.table}
    title = f"evaluation at step {last.pop()}" if len(last) == 1 else "last evaluated values"
    title += " (median over members)" if population else ""
    for i, ax in enumerate(axes):
        chunk = lines[i * TABLE_LINES:(i + 1) * TABLE_LINES]
        note = ["", "* the same at every evaluation"] if constant and i == len(axes) - 1 else []
        ax.text(0.02, 0.98, "\n".join([header, *chunk, *note]), transform=ax.transAxes, va="top",
                family="monospace", fontsize=9)
        ax.set_title(title if i == 0 else f"{title} (continued)", fontsize=10)
        ax.axis("off")


def save_training_curves(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Draw ``rows`` (of ``metrics.jsonl``) into ``path`` as :func:`plan_curves` lays them out."""
    from matplotlib.figure import Figure

    plan = plan_curves(rows)
    records = [(r["step"], MemberMetrics.from_row(r)) for r in rows]
    population = records[-1][1].members > 1
    cols = min(COLUMNS, plan.panels)
    lines = -(-plan.panels // cols)
    fig = Figure(figsize=(4.2 * cols, 3.0 * lines))
    axes = np.atleast_1d(fig.subplots(lines, cols)).ravel()
    steps = [r["step"] for r in rows]
    pad = max(1.0, 0.03 * (max(steps) - min(steps)))
    curve_axes = axes[:2 + len(plan.curves)]
    for key in ("d_loss", "g_loss"):
        axes[0].plot(*series(rows, key), label=key, **_markers(len(rows), lines=True))
    axes[0].set_title("losses")
    axes[0].legend(fontsize=8)
    for key, colour in (("d_real", "C0"), ("d_fake", "C1")):
        axes[1].plot(*series(rows, key), c=colour, label=f"mean D on {key[2:]} batch")
    for key, colour in zip(EVALUATION_D_KEYS, ("C0", "C1")):
        if any(_number(r.get(key)) for r in rows):
            axes[1].plot(*series(rows, key), c=colour, ls="none", marker="o", ms=6, mfc="white",
                         label=f"mean D on {key[2:-5]} (evaluation)")
    axes[1].axhline(0.5, c="k", ls=":", lw=1, label="1/2 (equilibrium)")
    axes[1].set_ylim(0, 1)
    axes[1].set_title("discriminator output")
    axes[1].legend(fontsize=7)
    for ax, metric in zip(axes[2:], plan.curves):
        _draw_metric(ax, rows, records, metric, population)
    for ax in curve_axes:
        ax.set_xlim(min(steps) - pad, max(steps) + pad)  # one step axis for every curve
        ax.set_xlabel("step")
    if plan.table:
        _draw_table(axes[len(curve_axes):plan.panels], rows, plan, population)
    for ax in axes[plan.panels:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return path
