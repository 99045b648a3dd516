import math

import pytest

from gankit.core.memberstats import MemberMetrics, spread


def test_spread_of_known_values_leaves_non_finite_ones_out():
    s = spread([4.0, 1.0, float("nan"), 3.0, 2.0, float("inf")])
    assert (s.min, s.q1, s.median, s.q3, s.max) == (1.0, 1.75, 2.5, 3.25, 4.0)
    assert all(math.isnan(v) for v in vars(spread([float("nan")])).values())


def test_a_single_member_writes_flat_values_and_reads_back():
    record = MemberMetrics.from_members([{"a_w1": 0.5, "success": True}])
    row = record.to_row()
    assert row == {"a_w1": 0.5, "success": True}
    again = MemberMetrics.from_row(row)
    assert again.value("a_w1") == 0.5 and again.members == 1


def test_a_population_summarises_survivors_and_keeps_every_member():
    record = MemberMetrics.from_members([{"a": 1.0}, {"a": 100.0}, {"a": 3.0}], left_out=[False, True, False])
    row = record.to_row()
    assert row["a"] == 2.0  # the median of 1 and 3: the diverged member is left out
    assert row["members"] == {"a": [1.0, 100.0, 3.0], "diverged": [False, True, False]}
    again = MemberMetrics.from_row(row)
    assert again.values == {"a": [1.0, 100.0, 3.0]} and again.left_out == [False, True, False]
    assert again.spread("a").max == 3.0 and again.member(1) == {"a": 100.0}


def test_merging_adds_metrics_of_the_same_members():
    a = MemberMetrics({"x": [1.0, 2.0]}, [False, True])
    merged = a.merged(MemberMetrics({"y": [3.0, 4.0]}))
    assert merged.values == {"x": [1.0, 2.0], "y": [3.0, 4.0]} and merged.left_out == [False, True]
    with pytest.raises(KeyError):
        merged.value("z")
