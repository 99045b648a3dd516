"""How well a table conditioned on columns makes the rows it is asked for, beside the share of
rows that hold the values asked for (``conditional_accuracy``, in :mod:`gankit.tasks.table_asked`).

Rows asked for a number cannot be compared with held-out rows that hold the same number: few
or none do. They are compared with the held-out rows *near* it, those in the same group
(:class:`ConditionGroups`): the same value of each category column, and the same quarter
(``NUMBER_BINS`` bins at the training rows' quantiles) of each number column, or missing.

- ``conditional_shapes``: in each group with at least ``MIN_ROWS`` held-out, generated and
  training rows, SDMetrics' Column Shapes (:func:`gankit.tasks.table_metrics.column_shapes`) of
  the generated rows asked for a value of the group against the held-out rows of the group, on
  the columns that are not conditions; the mean over groups weighted by their held-out rows.
  The evaluation asks for values as the training rows have them, so a group's generated rows are
  asked for values spread across the group as its held-out rows are.
- ``conditional_shapes_floor``: the same with training rows of each group in place of the
  generated ones: what real rows score against the held-out rows near them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gankit.tasks.table_asked import category_values, decode_parts, part_blocks, span_columns
from gankit.tasks.table_data import MAX_ROWS, TableData, shuffled, subsample
from gankit.tasks.table_numbers import shown

NUMBER_BINS = 4  # a number condition's groups: the quarters of the training rows' values
MIN_ROWS = 5  # rows of each sample a group needs to be scored
SEED = 0


class ConditionGroups:
    """Groups of condition values on the codec's columns ``names``, fitted on ``train_parts``
    (the training rows' parts of those columns, as a condition vector holds them): each
    category value is a group of its own, each number column is cut at its training values'
    quantiles into ``NUMBER_BINS`` bins (fewer where values tie), missing values a bin apart."""

    def __init__(self, codec: Any, names: Sequence[str], train_parts: np.ndarray) -> None:
        by_name = {column.name: column for column in codec.columns}
        self.codec, self.names = codec, list(names)
        self.chosen = [by_name[name] for name in self.names]
        self.columns = span_columns(part_blocks(self.chosen)).numpy()
        self.edges: list[np.ndarray] = []
        for column, values in zip(self.chosen, decode_parts(codec, self.chosen, train_parts)):
            if column.categorical:
                self.edges.append(np.zeros(0))
                continue
            present = values[~np.isnan(values)]
            levels = np.arange(1, NUMBER_BINS) / NUMBER_BINS
            self.edges.append(np.unique(np.quantile(present, levels)) if len(present) else np.zeros(0))
        self.sizes = [c.width if c.categorical else len(e) + 2 for c, e in zip(self.chosen, self.edges)]
        self.train_values = decode_parts(codec, self.chosen, train_parts)
        self.train_keys = self.keys(train_parts)

    def keys(self, parts: np.ndarray) -> np.ndarray:
        """The group of each condition (``[n, width]`` parts), as one integer."""
        key = np.zeros(len(parts), dtype=np.int64)
        for column, values, edges, size in zip(self.chosen, decode_parts(self.codec, self.chosen, parts),
                                               self.edges, self.sizes):
            if column.categorical:
                code = values.astype(np.int64)
            else:  # bins 0 .. len(edges); missing values the last
                code = np.where(np.isnan(values), size - 1, np.searchsorted(edges, values, side="right"))
            key = key * size + code
        return key

    def largest(self, most: int) -> list[int]:
        """The ``most`` groups with the most training rows, in the order of their values."""
        found, counts = np.unique(self.train_keys, return_counts=True)
        return sorted(int(k) for k in found[np.argsort(-counts, kind="stable")[:most]])

    def request(self, key: int) -> tuple[dict[str, Any], str]:
        """A condition of group ``key`` to ask for (a number: the group's middle training value),
        and a label for it."""
        rows = self.train_keys == key
        asked, label = {}, []
        for column, values in zip(self.chosen, self.train_values):
            mine = values[rows]
            if column.categorical:
                asked[column.name] = category_values(column)[int(mine[0])]
                label.append(f"{column.name}={asked[column.name]}")
            elif np.isnan(mine).all():
                asked[column.name] = "missing"
                label.append(f"{column.name} missing")
            else:
                middle = float(np.quantile(mine, 0.5, method="lower"))  # a training value: whole if they are
                # a date is asked as the user writes it (read_number reads dates in the column's form)
                asked[column.name] = shown(column, middle) if column.kind == "datetime" else middle
                label.append(f"{column.name}={shown(column, middle)} (bin {shown(column, mine.min())} "
                             f"to {shown(column, mine.max())})")
        return asked, ", ".join(label)


def _references(data: TableData, conditions: Any) -> dict[str, Any]:
    """Fixed per table: the groups, and the held-out and training rows' views and groups."""
    from gankit.tasks.table_codec import TableCodec

    def make() -> dict[str, Any]:
        codec = data.codec
        # every training row's parts (a run read back keeps them all, but only some training rows)
        groups = ConditionGroups(codec, conditions.names, conditions.parts.numpy())
        others = [i for i, c in enumerate(codec.modelled) if c.name not in conditions.names]
        refs: dict[str, Any] = {"groups": groups, "others": others,
                                "codec": TableCodec([codec.modelled[i] for i in others], codec.normalise)}
        for key, rows in (("real", shuffled(data.holdout_rows, MAX_ROWS, SEED)),
                          ("train", subsample(data.train_rows, MAX_ROWS, SEED + 1))):
            views = codec.views(rows)
            refs[key] = ([views[i] for i in others], groups.keys(rows[:, conditions.columns.numpy()]))
        return refs

    return data.cached("condition_groups", make)


def conditional_shapes(data: TableData, conditions: Any, points: np.ndarray) -> dict[str, float]:
    """``conditional_shapes`` and its floor (see the module's docstring) of generated rows
    followed by the conditions they were asked for (``points``: G's rows, then ``c``)."""
    from gankit.tasks.table_metrics import column_shapes

    refs = _references(data, conditions)
    width = points.shape[1] - conditions.width
    views = data.codec.views(data.harden(points[:, :width]))
    fake = ([views[i] for i in refs["others"]], refs["groups"].keys(points[:, width:]))
    (real_views, real_keys), (train_views, train_keys) = refs["real"], refs["train"]
    scores, floors, weights = [], [], []
    for key in np.unique(real_keys):
        r, f, t = real_keys == key, fake[1] == key, train_keys == key
        if min(r.sum(), f.sum(), t.sum()) < MIN_ROWS or not refs["others"]:
            continue
        real = [v[r] for v in real_views]
        scores.append(column_shapes(refs["codec"], real, [v[f] for v in fake[0]]))
        floors.append(column_shapes(refs["codec"], real, [v[t] for v in train_views]))
        weights.append(r.sum())
    if not weights:
        return {"conditional_shapes": float("nan"), "conditional_shapes_floor": float("nan")}
    return {"conditional_shapes": float(np.average(scores, weights=weights)),
            "conditional_shapes_floor": float(np.average(floors, weights=weights))}
