"""Side-by-side comparison of configurations at an equal budget, over several seeds each.

Each configuration trains as one population (``seeds`` members in one computation), so every
configuration sees the same seeds and the same budget; the table reports medians and
interquartile ranges over seeds and the share of seeds that reach the task's success threshold,
as Lucic et al. 2018 ask of GAN comparisons.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gankit.api.reporting import write_report
from gankit.api.run import Run
from gankit.api.training import train
from gankit.config import parse_override
from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.evaluation.figures import save_sample_grid
from gankit.store.checkpoint import atomic_write_text


@dataclass
class Variant:
    name: str
    overrides: list[dict[str, Any]]


def parse_variant(text: str) -> Variant:
    """``'name: train.loss=hinge train.lr_d=4e-4'`` -> a named set of overrides."""
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or not rest.split():
        raise GankitError(f"--variant takes 'NAME: KEY=VALUE [KEY=VALUE ...]', got '{text}'")
    return Variant(name.strip(), [parse_override(item) for item in rest.split()])


def grid_variants(axes: list[str]) -> list[Variant]:
    """``['train.loss=minimax,hinge', 'train.lr_g=1e-4,1e-3']`` -> their cartesian product."""
    parsed = []
    for axis in axes:
        key, sep, values = axis.partition("=")
        if not sep or not values:
            raise GankitError(f"--vary takes KEY=V1,V2,..., got '{axis}'")
        parsed.append([(key, value) for value in values.split(",")])
    variants = []
    for combo in itertools.product(*parsed):
        name = " ".join(f"{key.split('.')[-1]}={value}" for key, value in combo)
        variants.append(Variant(name, [parse_override(f"{key}={value}") for key, value in combo]))
    return variants


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "variant"


def compare(variants: list[Variant], out: str | Path, *, preset: str | None = None,
            base: list[dict[str, Any]] | None = None, seeds: int = 5, seed: int = 0,
            steps: int | None = None, seconds: float | None = None, overwrite: bool = False,
            progress: bool = True) -> list[dict[str, Any]]:
    """Train each variant for ``seeds`` seeds at the same budget; write the table and figure,
    each configuration's run figures in ``out/runs/NAME/figures`` and the page of all of them,
    ``out/report.html``.

    ``base`` overrides apply to every variant first (e.g. the dataset). The budget is either
    ``steps`` per seed or ``seconds`` of training per configuration (all its seeds together).
    """
    if not variants:
        raise GankitError("nothing to compare: give --variant or --vary")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise GankitError(f"variant names must differ, got {names}")
    budget: dict[str, Any] = {"seeds": seeds, "seed": seed}
    if seconds is not None:
        budget["train"] = {"max_seconds": float(seconds), "steps": 0}  # no step limit: time only
    elif steps is not None:
        budget["train"] = {"steps": steps}
    out = Path(out)
    rows = []
    runs: list[Run] = []
    for variant in variants:
        overrides = [*(base or []), *variant.overrides, budget]
        config = resolve_config(preset, overrides=overrides)
        config.name = variant.name
        run = train(config, preset=preset, out=out / "runs" / _slug(variant.name), overwrite=overwrite,
                    progress=progress, figures=True)
        runs.append(run)
        rows.append(_row(variant, run))
    _write_tables(rows, out)
    task = runs[0].trainer.task
    save_sample_grid(task, [run.sample(task.figure_points, seed=0) for run in runs],
                     [f"{row['config']}\nsuccess {row['success_share']:.0%}" for row in rows],
                     out / "comparison.png", max_cols=4, panel_size=(3.6, 3.0), dpi=90)
    write_report([run.path for run in runs], out / "report.html", title=f"comparison in {out}")
    return rows


def _row(variant: Variant, run: Run) -> dict[str, Any]:
    """The run's metrics as (median, q1, q3) over the seeds that did not diverge; diverged seeds
    count as failures in the success share."""
    summary = run.summary
    row: dict[str, Any] = {"config": variant.name, "seeds": run.trainer.members,
                           "steps": summary["step"]}
    record = MemberMetrics.from_row(summary)
    for key in record.names():
        if key != "success" and all(isinstance(v, float) for v in record.values[key]):
            spread = record.spread(key)
            row[key] = (spread.median, spread.q1, spread.q3)
    row["success_share"] = summary.get("success_share", float(bool(summary.get("success"))))
    row["diverged"] = int(summary.get("diverged", 0))
    return row


def _metric_keys(rows: list[dict[str, Any]]) -> list[str]:
    return [k for k in rows[0] if isinstance(rows[0][k], tuple)]


def _write_tables(rows: list[dict[str, Any]], out: Path) -> None:
    keys = _metric_keys(rows)
    lines = ["| config | seeds | steps | " + " | ".join(f"{k} median [IQR]" for k in keys)
             + " | success | diverged |",
             "|---|---|---|" + "---|" * len(keys) + "---|---|"]
    for row in rows:
        cells = [f"{row[k][0]:.4f} [{row[k][1]:.4f}, {row[k][2]:.4f}]" for k in keys]
        lines.append(f"| {row['config']} | {row['seeds']} | {row['steps']} | " + " | ".join(cells)
                     + f" | {row['success_share']:.0%} | {row['diverged']} |")
    atomic_write_text(out / "comparison.md", "\n".join(lines) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["config", "seeds", "steps"]
                    + [f"{k}_{s}" for k in keys for s in ("median", "q1", "q3")]
                    + ["success_share", "diverged"])
    for row in rows:
        writer.writerow([row["config"], row["seeds"], row["steps"]]
                        + [f"{v:.6g}" for k in keys for v in row[k]]
                        + [f"{row['success_share']:.4g}", row["diverged"]])
    atomic_write_text(out / "comparison.csv", buffer.getvalue())
