"""columns.png's axes (tasks.table_figures): the heavy-tail rule picks a log or symlog axis, and
category bars are labelled by their values, at most MAX_LABELS of them."""

import numpy as np
import pytest

from gankit.tasks.table_figures import MAX_LABELS, _symlog_ticks, axis_scale, category_ticks

N = 2000  # the figure's sample of held-out rows (table_data.MAX_ROWS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_lognormal_column_is_drawn_on_a_log_axis_and_a_normal_one_on_a_linear_axis(seed):
    rng = np.random.default_rng(seed)
    assert axis_scale(rng.lognormal(10, 1.2, N)) == ("log", {})
    assert axis_scale(rng.normal(50, 10, N)) == ("linear", {})
    assert axis_scale(rng.uniform(0, 1, N)) == ("linear", {})
    assert axis_scale(rng.exponential(1, N)) == ("linear", {})  # skewed, but its shape shows


def test_heavy_tails_reaching_zero_or_below_get_a_symlog_axis():
    rng = np.random.default_rng(0)
    scale, options = axis_scale(rng.standard_t(3, N) * 1000)  # balances: both signs, heavy tails
    assert scale == "symlog" and 300 < options["linthresh"] < 3000  # linear within the median |x|
    income = np.where(rng.random(N) < 0.4, 0.0, rng.lognormal(3, 1.2, N))  # many zeros
    assert axis_scale(income)[0] == "symlog"


def test_the_axis_range_and_missing_values_count():
    rng = np.random.default_rng(0)
    values = rng.normal(50, 10, N)
    assert axis_scale(values, low=1.0, high=5000.0) == ("log", {})  # a far training row stretches the axis
    with_missing = np.where(rng.random(N) < 0.2, np.nan, rng.lognormal(0, 1.5, N))
    assert axis_scale(with_missing)[0] == "log"
    assert axis_scale(np.array([3.0, 3.0, 3.0])) == ("linear", {})
    assert axis_scale(np.array([np.nan])) == ("linear", {})


def test_symlog_ticks_are_zero_and_decades_beyond_the_linear_part():
    assert _symlog_ticks(-15000, 25000, 800) == [-10000.0, -1000.0, 0.0, 1000.0, 10000.0]
    assert _symlog_ticks(0, 5e4, 20) == [0.0, 100.0, 1000.0, 10000.0]


def test_a_60_value_category_is_labelled_by_its_values_not_by_index():
    labels = [f"state_{i:02d}" for i in range(60)]
    positions, texts = category_ticks(labels)
    assert len(positions) <= MAX_LABELS and positions[0] == 0
    assert texts == [labels[i] for i in positions]
    assert not any(text.isdigit() for text in texts)
    steps = set(np.diff(positions))
    assert len(steps) == 1  # evenly thinned


def test_few_categories_are_all_labelled_and_missing_is_always_shown():
    assert category_ticks(["a", "b", "missing"]) == ([0, 1, 2], ["a", "b", "missing"])
    labels = [str(v) for v in range(100, 160)] + ["missing"]
    positions, texts = category_ticks(labels)
    assert len(positions) <= MAX_LABELS and texts[-1] == "missing" and positions[-1] == 60
    assert texts[:-1] == [labels[i] for i in positions[:-1]]
    long = category_ticks(["a very long category name indeed"])[1]
    assert long[0].startswith("a very long") and len(long[0]) <= 12
