"""Which way is better for every metric gankit reports: the one table that the ``gankit eval``
printout, the HTML report and ``gankit eval --help`` read.

It lives in the lowest layer and imports nothing, so that the command's help text can list the
directions without loading torch; a metric is known here by its name only (a test keeps every
name a built-in task or :data:`gankit.metrics.METRICS` reports listed).

Three directions:

- ``higher``: more is better (precision, coverage, quality_score, ...);
- ``lower``: less is better (a distance, a divergence, an AUC of telling generated from real);
- ``floor``: nearest its noise floor (``NAME_floor``) is best, above or below it being a fault
  of its own (density above its floor: generated points crowd the real ones).

Whatever the direction, a value reads against its floor: a perfect generator scores the floor
up to sampling noise, not the best value the metric can take.
"""

from __future__ import annotations

HIGHER, LOWER, FLOOR = "higher", "lower", "floor"

BETTER: dict[str, str] = {
    # sample-based metrics of any data (gankit.metrics)
    "mmd_rbf": LOWER, "sliced_w1": LOWER,
    "precision": HIGHER, "recall": HIGHER, "density": FLOOR, "coverage": HIGHER,
    # the parabola
    "a_w1": LOWER, "curve_rmse_median": LOWER, "valid_fraction": HIGHER,
    # the 1-D mixture
    "jsd": LOWER, "w1": LOWER,
    # ring and grid
    "modes_covered": HIGHER, "hq_fraction": HIGHER, "reverse_kl": LOWER,
    # images
    "fd": LOWER, "feature_precision": HIGHER, "feature_recall": HIGHER, "feature_density": FLOOR,
    "feature_coverage": HIGHER, "classes_covered": HIGHER, "class_kl": LOWER, "confidence": HIGHER,
    # tables
    "column_shapes": HIGHER, "column_pair_trends": HIGHER, "quality_score": HIGHER,
    "detection_auc": LOWER, "detection_score": HIGHER, "detection_auc_svc": LOWER, "ml_efficacy": HIGHER,
    "dcr_share": LOWER,
    # conditional runs
    "condition_error": LOWER, "conditional_accuracy": HIGHER, "conditional_shapes": HIGHER,
}

# Where "lower is better" stops: a value below this is noise (or a fault), not a better model.
LOWER_BOUND: dict[str, float] = {"detection_auc": 0.5, "detection_auc_svc": 0.5, "dcr_share": 0.5}

# An AUC below 0.5 by more than this many spreads over folds is more than noise.
DETECTION_NOISE_SPREADS = 2.0


# Keys printed among the metrics that are no metric: what they are, in place of a direction.
ABOUT: dict[str, str] = {
    "detection_auc_std": "detection_auc's spread over folds",
    "general_rows": "rows in each sample of the general metrics: generated, held-out half, floor half",
}


def better(name: str) -> str:
    """``"higher is better"``, ``"lower is better, down to 0.5"``, ``"nearest its floor is
    best"`` for a metric's name; "" for a name without a direction (a floor, D's mean output)."""
    direction = BETTER.get(name)
    if direction is None:
        return ""
    if direction == FLOOR:
        return "nearest its floor is best"
    bound = LOWER_BOUND.get(name)
    return f"{direction} is better" + (f", down to {bound:g}" if bound is not None else "")


def marker(name: str) -> str:
    """:func:`better` in parentheses, or what a key of :data:`ABOUT` is; "" for other keys."""
    text = better(name) or ABOUT.get(name, "")
    return f"({text})" if text else ""


def detection_note(auc: float, spread: float | None = None) -> str:
    """What an AUC below 0.5 means, for the places that print one; "" at or above 0.5.

    A detector cannot do worse than chance except by noise: a cross-validated AUC scatters
    around 0.5 for a perfect generator by about 0.1 with 70 held-out rows. Far below (more than
    twice its spread over folds) it points to a fault, such as rows shared between the real and
    the generated sample.
    """
    if not auc < 0.5:
        return ""
    if spread is not None and spread > 0 and 0.5 - auc > DETECTION_NOISE_SPREADS * spread:
        return (f"below 0.5 by more than {DETECTION_NOISE_SPREADS:g} x its spread over folds: more "
                "than noise; a fault such as rows shared between real and generated?")
    return "below 0.5: noise of a small held-out set (as good as 0.5; read detection_score)"


def directions_help() -> str:
    """The metrics by direction, for ``gankit eval --help``."""
    titles = {HIGHER: "higher is better", LOWER: "lower is better", FLOOR: "nearest its floor is best"}
    lines = ["which way is better (read each value against its NAME_floor: what real data score):"]
    for direction, title in titles.items():
        names = [name + (f" (down to {LOWER_BOUND[name]:g})" if name in LOWER_BOUND else "")
                 for name, d in BETTER.items() if d == direction]
        lines.append(f"  {title}:")
        line = "   "
        for i, name in enumerate(names):
            item = f" {name}" + ("," if i < len(names) - 1 else "")
            if len(line) + len(item) > 90:  # whole names per line, never "(down" / "to 0.5)"
                lines.append(line)
                line = "   "
            line += item
        lines.append(line)
    lines += ["  detection_auc below 0.5 is noise of a small held-out set (a fault if it is below by more",
              "  than twice detection_auc_std, its spread over folds); detection_score is SDMetrics'",
              "  1 - (max(AUC, 0.5) * 2 - 1), averaged over folds."]
    return "\n".join(lines)
