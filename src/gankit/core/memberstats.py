"""One record of a metric for every member of a population, and its summary over members.

Every consumer (the log rows, the summary, ``gankit eval``, compare, the figures) reads metrics
through :class:`MemberMetrics`, so none of them parses key suffixes or cares whether a run has
one member or many. Written out (``metrics.jsonl``, ``summary.json``, ``eval --json``), a single
run is a flat ``{metric: value}``; a population is ``{metric: median over members}`` plus
``"members": {metric: [one value per member], "diverged": [flags]}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DIVERGED = "diverged"


@dataclass(frozen=True)
class Spread:
    """Median, quartiles and range of the surviving members' finite values."""

    median: float
    q1: float
    q3: float
    min: float
    max: float


def spread(values: Sequence[float]) -> Spread:
    finite = np.array([v for v in values if isinstance(v, (int, float)) and math.isfinite(v)],
                      dtype=np.float64)
    if finite.size == 0:
        nan = float("nan")
        return Spread(nan, nan, nan, nan, nan)
    q1, median, q3 = np.percentile(finite, [25, 50, 75])
    return Spread(float(median), float(q1), float(q3), float(finite.min()), float(finite.max()))


@dataclass
class MemberMetrics:
    """``values[key][i]`` is member i's value of metric ``key``; ``left_out[i]`` marks a
    diverged member, kept in the record but left out of every summary."""

    values: dict[str, list[Any]]
    left_out: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.left_out:
            self.left_out = [False] * self.members

    @property
    def members(self) -> int:
        return len(next(iter(self.values.values()))) if self.values else len(self.left_out)

    @classmethod
    def from_members(cls, per_member: Sequence[Mapping[str, Any]],
                     left_out: Sequence[bool] | None = None) -> MemberMetrics:
        """From one dict of metrics per member."""
        keys = list(per_member[0]) if per_member else []
        return cls({k: [m[k] for m in per_member] for k in keys},
                   [bool(x) for x in left_out] if left_out is not None else [])

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MemberMetrics:
        """Read back what :meth:`to_row` wrote (a log row, a summary, ``eval --json``)."""
        members = row.get("members")
        if isinstance(members, Mapping):
            values = {k: list(v) for k, v in members.items() if k != DIVERGED}
            return cls(values, [bool(x) for x in members.get(DIVERGED, [])])
        return cls({k: [v] for k, v in row.items() if isinstance(v, (int, float, bool))})

    def names(self) -> list[str]:
        return list(self.values)

    def kept(self, key: str) -> list[Any]:
        """The values of the members that did not diverge."""
        return [v for v, out in zip(self.values[key], self.left_out) if not out]

    def spread(self, key: str) -> Spread:
        return spread(self.kept(key))

    def value(self, key: str) -> float:
        """A single run's value, or the median over the surviving members."""
        return self.values[key][0] if self.members == 1 else self.spread(key).median

    def member(self, i: int) -> dict[str, Any]:
        return {k: v[i] for k, v in self.values.items()}

    def merged(self, other: MemberMetrics) -> MemberMetrics:
        """This record with ``other``'s metrics added (the same members)."""
        return MemberMetrics({**self.values, **other.values}, self.left_out)

    def to_row(self) -> dict[str, Any]:
        if self.members == 1:
            return {k: v[0] for k, v in self.values.items()}
        out: dict[str, Any] = {}
        for key, values in self.values.items():
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            if numeric:
                out[key] = self.spread(key).median
        out["members"] = {**self.values, DIVERGED: list(self.left_out)}
        return out
