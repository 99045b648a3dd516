"""Rows on request: a table conditioned on chosen category columns (``data.condition``).

The condition vector ``c`` is the one-hots of the chosen columns, as a row has them (their
missing value included). Training asks G for the columns' values in the proportions of the
training rows' combinations of them (or, with ``data.balance``, by the logarithm of their counts,
CTGAN's training-by-sampling), and D sees every real row with its own values. G's rows are
made to meet what they are asked for (a hard condition). A user asks with
``gankit sample RUN --condition species=setosa`` or ``Run.sample(n, condition={...})``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError, did_you_mean


def span_columns(spans: list[tuple[int, int]]) -> torch.Tensor:
    """The encoded row's columns that one-hot ``spans`` cover, in order: where a condition
    vector's positions sit in a row."""
    return torch.tensor([i for start, end in spans for i in range(start, end)], dtype=torch.long)


class ColumnConditions:
    """Conditions on the one-hot ``spans`` of chosen columns (``names``, with their values in
    ``values``): the combinations of their values seen in training (``patterns``, one code per
    span) and how many training rows have each (``counts``)."""

    def __init__(self, names: Sequence[str], values: Sequence[Sequence[Any]], spans: list[tuple[int, int]],
                 patterns: np.ndarray, counts: np.ndarray, balance: bool) -> None:
        self.names, self.values, self.spans = list(names), [list(v) for v in values], spans
        self.patterns = np.asarray(patterns, dtype=np.int64).reshape(len(counts), len(spans))
        self.counts = np.asarray(counts, dtype=np.int64)
        self.columns = span_columns(spans)
        self.width = len(self.columns)
        offsets = np.cumsum([0] + [end - start for start, end in spans])[:-1]
        table = torch.zeros(len(self.counts), self.width)
        for s in range(len(spans)):
            table[torch.arange(len(self.counts)), torch.from_numpy(offsets[s] + self.patterns[:, s])] = 1
        self.table = table
        weights = np.log1p(self.counts) if balance else self.counts.astype(np.float64)
        self.training_p = torch.tensor(weights / weights.sum(), dtype=torch.float64)
        self.data_p = torch.tensor(self.counts / self.counts.sum(), dtype=torch.float64)

    @classmethod
    def of_rows(cls, names: Sequence[str], values: Sequence[Sequence[Any]], spans: list[tuple[int, int]],
                rows: np.ndarray, balance: bool) -> ColumnConditions:
        codes = np.stack([rows[:, start:end].argmax(axis=1) for start, end in spans], axis=1)
        patterns, counts = np.unique(codes, axis=0, return_counts=True)
        return cls(names, values, spans, patterns, counts, balance)

    def saved(self) -> dict[str, np.ndarray]:
        return {"condition_patterns": self.patterns, "condition_counts": self.counts}

    def draw_options(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """``n`` combinations of the columns' values (indices of ``patterns``)."""
        p = (self.training_p if training else self.data_p).to(generator.device)
        return torch.multinomial(p, n, replacement=True, generator=generator)

    def vectors(self, options: torch.Tensor) -> torch.Tensor:
        return self.table.to(options.device)[options]

    def option_rows(self, rows: torch.Tensor) -> list[torch.Tensor]:
        """The indices of the ``rows`` with each combination (a row whose combination training
        never had, a held-out row's, is in none)."""
        codes = torch.stack([rows[:, start:end].argmax(dim=1) for start, end in self.spans], dim=1)
        patterns = torch.from_numpy(self.patterns).to(codes.device)
        return [torch.nonzero((codes == pattern).all(dim=1)).flatten().cpu() for pattern in patterns]

    def of_points(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A real row's own values of the columns: no draw."""
        return x[:, self.columns.to(x.device)]

    def impose(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        out[..., self.columns.to(x.device)] = c.to(x.dtype)
        return out

    def ask(self, asked: dict[str, Any], n: int, device: Any) -> torch.Tensor:
        """``[n, width]`` vectors of the values ``asked`` (column -> value, as text or as the
        file has it); every chosen column must be given a value it has."""
        missing = [name for name in self.names if name not in asked]
        if missing:
            raise GankitError(f"this run is conditioned on {', '.join(self.names)}: give each a value, "
                              f"e.g. --condition {missing[0]}={self.values[self.names.index(missing[0])][0]}")
        vector = torch.zeros(self.width)
        offset = 0
        for name, values, (start, end) in zip(self.names, self.values, self.spans, strict=True):
            wanted = asked[name]
            texts = [str(v) for v in values]
            if wanted in values:
                k = values.index(wanted)
            elif str(wanted) in texts:
                k = texts.index(str(wanted))
            else:
                hint = did_you_mean(str(wanted), texts)
                raise GankitError(f"column '{name}' has no value {wanted!r}{hint}; "
                                  f"its values: {', '.join(texts)}")
            vector[offset + k] = 1
            offset += end - start
        return vector.expand(n, -1).to(device)

    def met(self, points: np.ndarray) -> float:
        """The share of rows (followed by their conditions) whose columns hold what was asked."""
        width = points.shape[1] - self.width
        columns = self.columns.numpy()
        return float(np.mean(np.all(points[:, columns] == points[:, width:], axis=1)))
