"""Rows on request: a table conditioned on chosen columns (``data.condition``).

Category columns only (:class:`ColumnConditions`): the condition vector ``c`` is the one-hots
of the chosen columns, as a row has them (their missing value included). Training asks G for
the columns' values in the proportions of the training rows' combinations of them (or, with
``data.balance``, by the logarithm of their counts, CTGAN's training-by-sampling), and D sees
every real row with its own values. With a number column among them (:class:`RowConditions`),
``c`` is the chosen columns' encoded parts (:mod:`gankit.tasks.table_numbers` says why), and
training asks G for the parts of training rows. G's rows are made to meet what they are asked
for (a hard condition). A user asks with ``gankit sample RUN --condition species=setosa`` (or
``age=40``) or ``Run.sample(n, condition={...})``.
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

    def draw(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """``[n, width]`` conditions for G, drawn as training or the data do."""
        return self.vectors(self.draw_options(n, generator, training))

    def of_drawn(self, rows: torch.Tensor, options: torch.Tensor) -> torch.Tensor:
        """The conditions of real ``rows`` drawn for ``options`` (their combinations)."""
        return self.vectors(options)

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
        check_given(self.names, asked, [values[0] for values in self.values])
        vector = torch.zeros(self.width)
        offset = 0
        for name, values, (start, end) in zip(self.names, self.values, self.spans, strict=True):
            vector[offset + category_code(name, values, asked[name])] = 1
            offset += end - start
        return vector.expand(n, -1).to(device)

    def met(self, points: np.ndarray) -> float:
        """The share of rows (followed by their conditions) whose columns hold what was asked."""
        width = points.shape[1] - self.width
        columns = self.columns.numpy()
        return float(np.mean(np.all(points[:, columns] == points[:, width:], axis=1)))


def check_given(names: Sequence[str], asked: dict[str, Any], examples: Sequence[Any]) -> None:
    """Every chosen column must be given a value: refuse, with an example, a request that leaves
    one out."""
    missing = [name for name in names if name not in asked]
    if missing:
        example = examples[list(names).index(missing[0])]
        raise GankitError(f"this run is conditioned on {', '.join(names)}: give each a value, "
                          f"e.g. --condition {missing[0]}={example}")


def category_code(name: str, values: Sequence[Any], wanted: Any) -> int:
    """The index of ``wanted`` (as the file has it, or as text) among a category column's
    ``values``; another value is refused with the column's values."""
    texts = [str(v) for v in values]
    if wanted in values:
        return list(values).index(wanted)
    if str(wanted) in texts:
        return texts.index(str(wanted))
    raise GankitError(f"column '{name}' has no value {wanted!r}{did_you_mean(str(wanted), texts)}; "
                      f"its values: {', '.join(texts)}")


def part_blocks(columns: Sequence[Any]) -> list[tuple[int, int]]:
    """Where each of ``columns`` (the codec's) sits in an encoded row as a condition: a
    category's one-hot span, a number's whole part (its value and any present/missing one-hot)."""
    return [c.spans()[0] if c.categorical else (c.start, c.start + c.width) for c in columns]


def category_values(column: Any) -> list[Any]:
    """What a category column may be asked for: its categories, then ``missing`` if it has any."""
    return [*column.categories, *(["missing"] if column.has_missing else [])]


class RowConditions:
    """Conditions on chosen columns (``names`` of ``codec``) among which is a number column.

    ``c`` is the chosen columns' parts of an encoded row, in the order of ``names``: a category's
    one-hot, a number's normalised value (with its present/missing one-hot where it has one).
    ``parts`` are the training rows' own (``[rows, width]``, kept in the run folder). Training
    asks G for the parts of a training row: a combination of the category columns' values
    drawn by its count (by its log count with ``balance``; one combination when every chosen
    column is a number), then a training row with it, uniformly. Evaluations and samples draw
    the combination by its count. D sees every real row with its own parts."""

    def __init__(self, codec: Any, names: Sequence[str], parts: np.ndarray, balance: bool) -> None:
        by_name = {column.name: column for column in codec.columns}
        self.codec, self.names = codec, list(names)
        self.chosen = [by_name[name] for name in self.names]
        self.blocks = part_blocks(self.chosen)
        self.columns = span_columns(self.blocks)
        self.width = len(self.columns)
        self.parts = torch.from_numpy(np.array(parts, dtype=np.float32).reshape(-1, self.width))
        self.category_spans = [span for c, span in zip(self.chosen, self.blocks) if c.categorical]
        self._in_c, self._numbers_in_c = _layout(self.chosen)
        codes = _codes(self.parts.numpy(), self._in_c)
        self.patterns, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
        self.order = torch.from_numpy(np.argsort(inverse.reshape(-1), kind="stable"))
        self.sizes = torch.from_numpy(counts)
        self.first = torch.cumsum(self.sizes, 0) - self.sizes
        weights = np.log1p(counts) if balance else counts.astype(np.float64)
        self.training_p = torch.tensor(weights / weights.sum(), dtype=torch.float64)
        self.data_p = torch.tensor(counts / counts.sum(), dtype=torch.float64)

    def saved(self) -> dict[str, np.ndarray]:
        """Every training row's parts, each category's one-hot kept as its code: a column of
        many categories would otherwise cost its width in floats for every row."""
        parts = self.parts.numpy()
        return {"condition_codes": _codes(parts, self._in_c).astype(np.int32),
                "condition_numbers": parts[:, self._numbers_in_c]}

    @classmethod
    def from_saved(cls, codec: Any, names: Sequence[str], saved: dict[str, Any], balance: bool
                   ) -> RowConditions | None:
        """The conditions of a run folder's saved state (:meth:`saved`); None if it has none."""
        if "condition_codes" not in saved:
            return None
        by_name = {column.name: column for column in codec.columns}
        in_c, numbers_in_c = _layout([by_name[name] for name in names])
        numbers, codes = np.asarray(saved["condition_numbers"]), np.asarray(saved["condition_codes"])
        parts = np.zeros((len(numbers), len(numbers_in_c) + sum(end - start for start, end in in_c)),
                         dtype=np.float32)
        parts[:, numbers_in_c] = numbers
        for k, (start, _) in enumerate(in_c):
            parts[np.arange(len(parts)), start + codes[:, k]] = 1
        return cls(codec, names, parts, balance)

    def draw_options(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """``n`` combinations of the category columns' values (indices of ``patterns``)."""
        p = (self.training_p if training else self.data_p).to(generator.device)
        return torch.multinomial(p, n, replacement=True, generator=generator)

    def draw(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """``[n, width]`` conditions for G: the parts of training rows of drawn combinations."""
        options = self.draw_options(n, generator, training).cpu()
        uniform = torch.rand(n, generator=generator, device=generator.device).cpu()
        offsets = torch.minimum((uniform * self.sizes[options]).long(), self.sizes[options] - 1)
        return self.parts[self.order[self.first[options] + offsets]].to(generator.device)

    def option_rows(self, rows: torch.Tensor) -> list[torch.Tensor]:
        """The indices of the ``rows`` with each combination (none: a combination training never had)."""
        codes = torch.from_numpy(_codes(rows.cpu().numpy(), self.category_spans))
        patterns = torch.from_numpy(self.patterns)
        return [torch.nonzero((codes == pattern).all(dim=1)).flatten() for pattern in patterns]

    def of_drawn(self, rows: torch.Tensor, options: torch.Tensor) -> torch.Tensor:
        return self.of_points(rows, None)

    def of_points(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """A real row's own parts of the chosen columns: no draw."""
        return x[:, self.columns.to(x.device)]

    def impose(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        out[..., self.columns.to(x.device)] = c.to(x.dtype)
        return out

    def ask(self, asked: dict[str, Any], n: int, device: Any, extrapolate: bool = False) -> torch.Tensor:
        """``[n, width]`` vectors of the values ``asked``: a category's value as ColumnConditions
        reads it, a number read by :func:`gankit.tasks.table_numbers.read_number` (its range
        checked unless ``extrapolate``)."""
        from gankit.tasks.table_numbers import number_part, read_number, shown

        check_given(self.names, asked, [category_values(c)[0] if c.categorical else shown(c, c.low)
                                        for c in self.chosen])
        pieces = []
        for column in self.chosen:
            wanted = asked[column.name]
            if column.categorical:
                piece = np.zeros(column.width, dtype=np.float32)
                piece[category_code(column.name, category_values(column), wanted)] = 1
            else:
                piece = number_part(self.codec, column, read_number(column, wanted, extrapolate))
            pieces.append(piece)
        return torch.from_numpy(np.concatenate(pieces)).expand(n, -1).to(device)

    def decoded(self, c: np.ndarray) -> list[np.ndarray]:
        return decode_parts(self.codec, self.chosen, c)

    def met(self, points: np.ndarray) -> float:
        """The share of generated rows (followed by their conditions) that decode to the values
        asked for in every chosen column (a number up to the rounding it is written with)."""
        width = points.shape[1] - self.width
        held = self.decoded(points[:, self.columns.numpy()])
        wanted = self.decoded(points[:, width:])
        same = [(a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
                for a, b in zip(held, wanted)]
        return float(np.mean(np.all(same, axis=0)))


def decode_parts(codec: Any, chosen: Sequence[Any], c: np.ndarray) -> list[np.ndarray]:
    """Conditions ``c`` on the codec's ``chosen`` columns as the values they ask for, per column:
    the decoded number (clipped, rounded; NaN: missing) or the category's code (missing last)."""
    rows = np.zeros((len(c), codec.width), dtype=np.float32)
    rows[:, span_columns(part_blocks(chosen)).numpy()] = c
    views = codec.views(rows)  # each column decodes from its own part: the zeros elsewhere do not count
    return [views[codec.modelled.index(column)] for column in chosen]


def _layout(chosen: Sequence[Any]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Where the ``chosen`` columns' parts sit in ``c``: each category's one-hot span, and the
    positions of the number columns' parts."""
    spans: list[tuple[int, int]] = []
    numbers: list[int] = []
    at = 0
    for column, (start, end) in zip(chosen, part_blocks(chosen), strict=True):
        if column.categorical:
            spans.append((at, at + end - start))
        else:
            numbers.extend(range(at, at + end - start))
        at += end - start
    return spans, np.array(numbers, dtype=np.int64)


def _codes(rows: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """``[rows, spans]`` codes: the argmax of each one-hot span."""
    if not spans:
        return np.zeros((len(rows), 0), dtype=np.int64)
    return np.stack([rows[:, start:end].argmax(axis=1) for start, end in spans], axis=1)
