"""curves.png's layout (evaluation.curves) decided from the log rows alone, and drawn as decided:
a noise floor is a dashed line on its metric's panel, never a panel; one evaluation is a table."""

import math

import pytest
from matplotlib.figure import Figure

from gankit.evaluation.curves import MetricPanel, plan_curves, save_training_curves


def _rows(evaluations, floors=True, members=None):
    """Log rows every 50 steps to step 300, evaluated at the steps in ``evaluations``, as a run
    of the digits task writes them (its metrics each with a NAME_floor)."""
    rows = []
    for i, step in enumerate(range(50, 301, 50)):
        row = {"step": step, "d_loss": 1.3, "g_loss": 0.7 + 0.01 * i, "d_real": 0.55, "d_fake": 0.45,
               "elapsed_s": 0.1 * step}
        if step in evaluations:
            k = evaluations.index(step) + 1
            row.update({"fd": 40.0 / k, "class_kl": 0.9 / k, "classes_covered": 10,
                        "confidence": 0.5 + 0.1 * k, "d_real_mean": 0.5, "d_fake_mean": 0.48})
            if floors:
                row.update({"fd_floor": 1.28, "class_kl_floor": 0.029, "classes_covered_floor": 10,
                            "confidence_floor": 0.94})
        rows.append(row)
    return rows


def test_a_floor_has_no_panel_and_goes_with_its_metric():
    plan = plan_curves(_rows([100, 200, 300]))
    assert MetricPanel("fd", "fd_floor") in plan.curves
    assert MetricPanel("class_kl", "class_kl_floor") in plan.curves
    panels = [m.key for m in (*plan.curves, *plan.table)]
    assert not [k for k in panels if k.endswith("_floor")]
    # the evaluation's mean D outputs go on the D output panel, not on panels of their own
    assert "d_real_mean" not in panels and "d_fake_mean" not in panels


def test_a_constant_at_its_floor_is_listed_not_drawn():
    plan = plan_curves(_rows([100, 200, 300]))
    assert [m.key for m in plan.curves] == ["class_kl", "confidence", "fd"]
    assert plan.table == (MetricPanel("classes_covered", "classes_covered_floor"),)
    assert plan.panels == 2 + 3 + 1


def test_one_evaluation_is_one_table_not_a_panel_of_one_dot_per_metric_and_floor():
    plan = plan_curves(_rows([300]))
    assert plan.curves == ()
    assert [m.key for m in plan.table] == ["class_kl", "classes_covered", "confidence", "fd"]
    assert plan.panels == 3  # losses, D outputs, the table (it was 2 + 10 panels of one dot)


def test_a_floor_without_its_metric_is_not_drawn_and_a_metric_without_floor_has_none():
    rows = _rows([100, 200, 300], floors=False)
    rows[-1]["mmd_floor"] = 0.01
    plan = plan_curves(rows)
    assert all(m.floor is None for m in plan.curves) and "mmd_floor" not in {m.key for m in plan.curves}


def test_nan_values_do_not_make_a_curve():
    rows = _rows([100, 200, 300])
    for row in rows:
        if "fd" in row:
            row["fd"] = math.nan
    rows[-1]["fd"] = 3.0
    assert "fd" in {m.key for m in plan_curves(rows).table}


@pytest.fixture
def drawn(monkeypatch):
    """The figures save_training_curves makes, kept instead of written."""
    figures = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, path, *a, **k: figures.append(fig))
    return figures


def _axes(fig):
    return {ax.get_title(): ax for ax in fig.axes if ax.get_title()}


def test_the_floor_is_a_dashed_line_on_its_metrics_panel(drawn, tmp_path):
    save_training_curves(_rows([100, 200, 300]), tmp_path / "curves.png")
    axes = _axes(drawn[0])
    assert not [t for t in axes if t.endswith("_floor")]
    floor = [line for line in axes["fd"].lines if line.get_label().startswith("floor")]
    assert len(floor) == 1 and floor[0].get_linestyle() == "--"
    assert set(floor[0].get_ydata()) == {1.28}
    # a short series is drawn with markers large enough to see each point
    curve = axes["fd"].lines[0]
    assert curve.get_marker() == "o" and curve.get_markersize() >= 5
    d_panel = axes["discriminator output"]
    assert [line.get_marker() for line in d_panel.lines if "evaluation" in line.get_label()] == ["o", "o"]


def test_one_evaluation_draws_three_panels_with_the_numbers(drawn, tmp_path):
    save_training_curves(_rows([300]), tmp_path / "curves.png")
    fig = drawn[0]
    visible = [ax for ax in fig.axes if ax.axison]
    assert len(visible) == 2 and len(fig.axes) == 3
    table = _axes(fig)["evaluation at step 300"]
    lines = {line.split()[0]: line.split()[1:] for line in table.texts[0].get_text().splitlines()}
    assert lines["metric"] == ["value", "floor"]
    assert lines["fd"] == ["40", "1.28"] and lines["classes_covered"] == ["10", "10"]
    assert not [key for key in lines if key.endswith("_floor")]


def test_a_population_draws_its_band_and_floor(drawn, tmp_path):
    rows = _rows([100, 200, 300])
    for row in rows:
        if "fd" in row:
            row["members"] = {"fd": [row["fd"] * 0.9, row["fd"], row["fd"] * 1.2], "diverged": [False] * 3}
    save_training_curves(rows, tmp_path / "curves.png")
    labels = {t.get_text() for t in _axes(drawn[0])["fd"].get_legend().texts}
    assert labels == {"median over members", "floor (real vs real)", "interquartile range"}


def test_a_constant_is_listed_with_its_floor_and_marked_the_same_throughout(drawn, tmp_path):
    save_training_curves(_rows([100, 200, 300]), tmp_path / "curves.png")
    text = _axes(drawn[0])["evaluation at step 300"].texts[0].get_text()
    rows = [line.split() for line in text.splitlines() if line.startswith("classes_covered")]
    assert rows == [["classes_covered", "10*", "10"]]
    assert text.splitlines()[-1] == "* the same at every evaluation"
