"""What the commands print under a run: its metrics (with the way each is better, and a
population's spread), the note on metrics that are not held out, and a refinement's cost."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gankit.core.memberstats import MemberMetrics
    from gankit.evaluation.refine import RefineSettings


def print_metrics(metrics: dict[str, Any]) -> None:
    """Scalars one per line, each metric with the way that is better (gankit.core.directions);
    with several members, each metric's median, IQR and range. A detection_auc below 0.5 is
    followed by what it means."""
    from gankit.core.directions import detection_note, marker

    per_member = member_record(metrics)
    width = max([18] + [len(k) for k, v in metrics.items() if not isinstance(v, dict)])
    for key, value in metrics.items():
        if isinstance(value, dict):
            continue
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        if marker(key):
            shown = f"{shown:<9} {marker(key)}"
        if per_member is not None and key in per_member.values and isinstance(value, float):
            spread = per_member.spread(key)
            shown += (f"   (IQR {spread.q1:.4f} to {spread.q3:.4f}, "
                      f"range {spread.min:.4f} to {spread.max:.4f})")
        print(f"  {key:<{width}} {shown}")
        if key == "detection_auc" and isinstance(value, float) and detection_note(value):
            print(f"  {'':<{width}} detection_auc {detection_note(value, metrics.get('detection_auc_std'))}")


def not_held_out_note(summary: dict[str, Any]) -> None:
    """After a run's all-rows phase (train.all_rows) its held-out rows were trained on: say so
    under its metrics, with the held-out phase's own score, the last one measured on unseen rows."""
    if summary.get("held_out") is not False:
        return
    held = summary.get("held_out_phase") or {}
    score = (held.get("metrics") or {}).get("quality_score")
    at = f" (quality_score {score:.4f} at step {held.get('step')})" if isinstance(score, float) else ""
    steps = summary.get("all_rows_phase", {}).get("steps", "?")
    print(f"  note: not held out: this run's last {steps} steps "
          f"trained on every row, the held-out ones too (train.all_rows); the held-out phase's "
          f"metrics{at} are summary.json's held_out_phase")


def member_record(metrics: dict[str, Any]) -> MemberMetrics | None:
    """A population's per-member values, None for a single run."""
    from gankit.core.memberstats import MemberMetrics

    record = MemberMetrics.from_row(metrics)
    return record if record.members > 1 else None


def print_refinement(settings: RefineSettings, metrics: dict[str, Any]) -> None:
    from gankit.evaluation.refine import describe

    print(f"  refined by {describe(settings)}: acceptance rate {metrics['acceptance_rate']:.3f}, "
          f"{metrics['g_passes_per_sample']:.1f} G and {metrics['d_passes_per_sample']:.1f} D passes "
          "per sample")
