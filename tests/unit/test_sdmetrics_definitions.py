"""gankit's quality metrics are SDMetrics' QualityReport (sdmetrics 0.32), checked on cases
worked by hand; benchmarks/sdmetrics_agreement.py checks them against the installed sdmetrics
(not a dependency: nothing here needs it). And the SVC detector beside the logistic one."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association

from gankit.tasks.table_codec import TableCodec
from gankit.tasks.table_metrics import (
    column_pair_trends,
    column_shapes,
    cramers_v,
    detection_svc,
    pair_score,
    quality_score,
)

NUMBERS, CATEGORY = False, True
NAN = np.nan


def views(frame, codec=None):
    codec = codec or TableCodec.fit(frame, frame)
    return codec, codec.views_of(frame)


def test_column_shapes_drops_missing_values_and_scores_a_constant_column_one():
    """KSComplement and TVComplement drop missing values: a column whose present values match
    scores 1 however many are missing (gankit counted the missing value as a category)."""
    real = pd.DataFrame({"x": [1.5, 2.5, 3.5, NAN, NAN, 4.5], "k": ["a", "b", None, None, "a", "b"],
                         "same": ["s"] * 6})
    fake = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5, 1.5, NAN], "k": ["a", "b", "a", "b", "a", "b"],
                         "same": ["s"] * 6})
    codec, r = views(real)
    f = codec.views_of(fake)
    # x: real {1.5, 2.5, 3.5, 4.5} once each; fake 1.5 twice: KS = 2/5 - 1/4 = 0.15
    # k: real a, b half each; fake a, b half each: TV 0. same: constant, 1.
    assert column_shapes(codec, r, f) == pytest.approx((0.85 + 1 + 1) / 3)


def test_a_column_missing_everywhere_in_one_sample_has_no_shape_score():
    real = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5], "y": [0.5, 1.5, 2.5, 3.5]})
    fake = pd.DataFrame({"x": [1.5, 2.5, 3.5, 4.5], "y": [NAN] * 4})
    codec = TableCodec.fit(pd.concat([real, fake]), real)
    assert column_shapes(codec, codec.views_of(real), codec.views_of(fake)) == 1.0  # y left out


def test_two_numbers_count_only_above_the_correlation_threshold():
    x = np.array([1.0, 2, 3, 4])
    # real r = 0.8 (deviations -1.5 -.5 .5 1.5 and -1.5 .5 -.5 1.5: 4 / 5); fake r = 1
    assert pair_score((NUMBERS, NUMBERS), (x, np.array([1.0, 3, 2, 4])), (x, x)) == pytest.approx(0.9)
    # real r = 0.6 > 0.5 counts; real r = 0 does not, whatever the fake rows
    assert pair_score((NUMBERS, NUMBERS), (x, np.array([2.0, 1, 4, 3])), (x, x)) == pytest.approx(0.8)
    assert np.isnan(pair_score((NUMBERS, NUMBERS), (x, np.array([3.0, 1, 4, 2])), (x, x)))
    # r on the rows where both are present: the NaN row is left out, r = 1
    with_gap = np.array([1.0, 2, NAN, 4, 5])
    assert pair_score((NUMBERS, NUMBERS), (with_gap, with_gap), (x, -x)) == pytest.approx(0.0)


def test_a_constant_number_column_leaves_its_pairs_out():
    """SDMetrics' CorrelationSimilarity refuses a constant column (in either sample): no score."""
    x = np.array([1.0, 2, 3, 4])
    assert np.isnan(pair_score((NUMBERS, NUMBERS), (x, x), (x, np.full(4, 2.0))))


def test_cramers_v_is_scipys_and_pairs_count_only_above_the_association_threshold():
    strong = (np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([0, 0, 0, 1, 0, 1, 1, 1]))  # [[3,1],[1,3]]
    weak = (np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([0, 0, 1, 1, 0, 1, 1, 1]))    # [[2,2],[1,3]]
    assert cramers_v(*strong) == pytest.approx(0.5)  # |ad - bc| / sqrt of the margins' product
    assert cramers_v(*weak) == pytest.approx(4 / np.sqrt(240))  # 0.258
    rng = np.random.default_rng(0)
    a, b = rng.integers(4, size=300), rng.integers(3, size=300)
    b[:150] = a[:150] % 3
    table = np.zeros((4, 3), dtype=np.int64)
    np.add.at(table, (a, b), 1)
    assert cramers_v(a, b) == pytest.approx(association(table, method="cramer"))
    assert pair_score((CATEGORY, CATEGORY), strong, strong) == 1.0
    assert np.isnan(pair_score((CATEGORY, CATEGORY), weak, weak))  # 0.258 <= 0.3: not averaged
    assert np.isnan(cramers_v(np.zeros(5), np.arange(5)))  # one row of the table: no association


def test_a_number_and_a_category_are_binned_each_on_its_own_edges():
    """The report cuts each sample's numbers into 10 bins over that sample's own range, so
    numbers moved by 100 with the same categories score 1 (one set of edges, the real rows',
    would put every moved number in the last bin)."""
    x = np.arange(10.0)
    kind = (x >= 5).astype(np.int64)
    assert cramers_v(np.digitize(x, np.histogram_bin_edges(x)), kind) == pytest.approx(1.0)
    assert pair_score((NUMBERS, CATEGORY), (x, kind), (x + 100, kind)) == 1.0
    assert pair_score((CATEGORY, NUMBERS), (kind, x), (kind, 3 * x - 7)) == 1.0
    # numbers swapped between the two categories: the joint tables share nothing
    assert pair_score((NUMBERS, CATEGORY), (x, kind), (x, 1 - kind)) == pytest.approx(0.0)


def test_the_largest_number_shares_its_bin_with_the_missing_values():
    """``np.digitize`` puts a sample's largest value (on the last edge) and NaN in one code:
    a real maximum and a generated missing value of the same category score alike."""
    x, kind = np.r_[np.arange(10.0), 9.0], np.r_[np.zeros(5), np.ones(6)].astype(np.int64)
    assert pair_score((NUMBERS, CATEGORY), (x, kind), (np.r_[np.arange(10.0), NAN], kind)) == 1.0
    assert pair_score((NUMBERS, CATEGORY), (x, kind), (np.r_[np.arange(10.0), 8.5], kind)) < 1


def test_a_missing_category_is_a_category_of_the_pair():
    a = np.array([0, 0, 0, 1, 1, 1])
    b = np.array([0, 0, 2, 1, 1, 1])  # code 2: missing, in the category a = 0
    assert pair_score((CATEGORY, CATEGORY), (a, b), (a, np.array([0, 0, 0, 1, 1, 1]))) == pytest.approx(5 / 6)


def test_column_pair_trends_averages_the_counted_pairs_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    real = pd.DataFrame({"x": x + 0.5, "y": x + 0.3 * rng.normal(size=400) + 0.5,
                         "z": rng.normal(size=400) + 0.5})  # z: independent, |r| < 0.5
    fake = real.assign(y=real["x"] + rng.normal(size=400))
    codec, r = views(real)
    f = codec.views_of(fake)
    counted = pair_score((NUMBERS, NUMBERS), (r[0], r[1]), (f[0], f[1]))
    assert 0.5 < counted < 0.95
    assert column_pair_trends(codec, r, f) == pytest.approx(counted)
    shapes = column_shapes(codec, r, f)
    assert quality_score(shapes, column_pair_trends(codec, r, f)) == pytest.approx((shapes + counted) / 2)
    independent = real[["z"]].assign(w=rng.normal(size=400) + 0.5)
    codec, r = views(independent)
    assert np.isnan(column_pair_trends(codec, r, r))  # no pair counts: the report's NaN
    assert quality_score(0.9, float("nan")) == 0.9  # ... and the overall score is the shapes'


def test_the_svc_detector_tells_moved_rows_and_not_real_ones_on_at_most_svc_rows(monkeypatch):
    import sklearn.svm

    seen = []
    fit = sklearn.svm.SVC.fit

    def spy(self, x, y, *args, **kwargs):
        seen.append(len(x))
        return fit(self, x, y, *args, **kwargs)

    monkeypatch.setattr(sklearn.svm.SVC, "fit", spy)
    rng = np.random.default_rng(0)

    def table(n, shift=0.0):
        x = rng.normal(size=n)
        return pd.DataFrame({"x": x + shift, "y": x ** 2 + 0.1 * rng.normal(size=n),
                             "k": np.where(rng.random(n) < 0.3, "a", "b")})

    real = table(3000)
    codec = TableCodec.fit(real, real)
    same, moved = codec.encode(table(1500)), codec.encode(table(1500, shift=0.7))
    assert abs(detection_svc(codec, codec.encode(real), same) - 0.5) < 0.06
    assert sorted(set(seen)) == [1333, 1334]  # 1,000 rows of each class, 3 folds
    assert detection_svc(codec, codec.encode(real), moved) > 0.8
    assert np.isnan(detection_svc(codec, codec.encode(real), same[:2]))
