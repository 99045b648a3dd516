"""A table's one-hot spans as G makes them (the output head) and as conditions: CTGAN's
training-by-sampling (Xu et al. 2019, section 4.3).

Every one-hot span of an encoded row (a categorical column's categories, a number column's
present/missing indicator) is a place a condition can sit. A condition picks one span and one
of its values; the vector ``c`` is the one-hot of that value among all the spans' positions
(zeros elsewhere). Training draws the span uniformly and the value by the logarithm of its
count in the training rows, so a category in 1% of the rows is asked for far more often than
1% of the time, and the real batch is made of rows that have the values asked for: D learns
what rows of a rare category look like, and G must make them. G is asked, and D shown, each
condition; the output head sets the chosen span to the value asked for (a hard condition), so
G cannot answer with another value.

Samples and evaluations draw conditions as the data have them (the span uniformly, the value by
its count), which makes the generated rows a mixture of each value's rows in the data's own
proportions: ``p(x) = sum over spans s of 1/S sum over values k of p(x_s = k) p(x | x_s = k)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError, did_you_mean
from gankit.tasks.base import RowSampler, Sampler
from gankit.tasks.conditions import Conditions, check_condition_names
from gankit.tasks.table_asked import (
    ColumnConditions,
    RowConditions,
    category_values,
    part_blocks,
    span_columns,
)
from gankit.tasks.table_data import TableData


class SpanConditions:
    """Training-by-sampling over a table's one-hot ``spans`` (``[(start, end), ...]`` of the
    encoded row), with the values' counts in the training rows ``counts`` (one array per span)."""

    def __init__(self, spans: list[tuple[int, int]], counts: list[np.ndarray]) -> None:
        self.spans = spans
        self.value_counts = [np.asarray(c, dtype=np.int64) for c in counts]  # kept in saved states
        self.columns = span_columns(spans)
        self.width = len(self.columns)
        # span_of[j]: the span of position j of c
        self.span_of = torch.tensor([s for s, (start, end) in enumerate(spans) for _ in range(start, end)])
        # One option per (span, value) with rows: its position in c and its two probabilities.
        positions, training, data = [], [], []
        offset = 0
        for count in (np.asarray(c, dtype=np.float64) for c in counts):
            seen = np.flatnonzero(count > 0)
            positions += (offset + seen).tolist()
            logs = np.log1p(count[seen])  # CTGAN's log(frequency + 1)
            training += (logs / logs.sum() / len(spans)).tolist()
            data += (count[seen] / count[seen].sum() / len(spans)).tolist()
            offset += len(count)
        self.positions = torch.tensor(positions, dtype=torch.long)
        self.training_p = torch.tensor(training, dtype=torch.float64)
        self.data_p = torch.tensor(data, dtype=torch.float64)

    @classmethod
    def of_rows(cls, spans: list[tuple[int, int]], rows: np.ndarray) -> SpanConditions:
        """Counts of each span's values in encoded ``rows`` (their one-hot argmax)."""
        counts = [np.bincount(rows[:, start:end].argmax(axis=1), minlength=end - start)
                  for start, end in spans]
        return cls(spans, counts)

    def draw_options(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """``n`` options, here positions in ``c`` (a span and a value each), drawn as training
        or the data do."""
        p = (self.training_p if training else self.data_p).to(generator.device)
        options = torch.multinomial(p, n, replacement=True, generator=generator)
        return self.positions.to(generator.device)[options]

    def vectors(self, positions: torch.Tensor) -> torch.Tensor:
        """One-hot condition vectors ``[n, width]`` of ``positions``."""
        return torch.nn.functional.one_hot(positions, self.width).float()

    def draw(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """``[n, width]`` conditions for G, drawn as training or the data do."""
        return self.vectors(self.draw_options(n, generator, training))

    def of_drawn(self, rows: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """The conditions of real ``rows`` drawn for ``positions``."""
        return self.vectors(positions)

    def option_rows(self, rows: torch.Tensor) -> list[torch.Tensor]:
        """The indices of the ``rows`` that meet each option (each position of ``c``)."""
        codes = [rows[:, start:end].argmax(dim=1) for start, end in self.spans]
        return [torch.nonzero(codes[s] == k).flatten()
                for s, (start, end) in enumerate(self.spans) for k in range(end - start)]

    def saved(self) -> dict[str, np.ndarray]:
        return {"condition_counts": np.concatenate(self.value_counts)}

    def of_points(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Conditions real rows ``x`` meet, one span each drawn uniformly: ``[n, width]``."""
        picks = torch.randint(len(self.spans), (len(x),), generator=generator, device=generator.device)
        values = x[:, self.columns.to(x.device)]
        chosen = self.span_of.to(x.device)[None, :] == picks.to(x.device)[:, None]
        return torch.where(chosen, values, torch.zeros_like(values))

    def impose(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``x`` (``[..., row width]``) with the span each condition of ``c`` names set to the
        value asked for; the other spans as G made them."""
        columns = self.columns.to(x.device)
        asked = self.span_of.to(x.device)[c.argmax(dim=-1)]  # [...]: the span of each condition
        chosen = self.span_of.to(x.device) == asked[..., None]
        out = x.clone()
        out[..., columns] = torch.where(chosen, c.to(x.dtype), x[..., columns])
        return out



class ConditionedRows(Sampler):
    """Real batches by training-by-sampling: each row's condition drawn as training draws them,
    then a training row with that value, uniformly; rows come followed by their conditions.
    Draws with replacement, so the random generator is the whole state."""

    def __init__(self, conditions: SpanConditions | ColumnConditions | RowConditions, rows: torch.Tensor,
                 generator: torch.Generator) -> None:
        self.conditions = conditions
        self.rows = rows
        self.generator = generator
        groups = conditions.option_rows(rows)
        sizes = torch.tensor([len(g) for g in groups], dtype=torch.long)
        self.index = torch.cat(groups)
        self.first = torch.cumsum(sizes, 0) - sizes  # by option: where its rows start
        self.sizes = sizes

    def draw(self, n: int) -> torch.Tensor:
        device = self.generator.device
        positions = self.conditions.draw_options(n, self.generator, training=True).cpu()
        uniform = torch.rand(n, generator=self.generator, device=device).cpu()
        offsets = (uniform * self.sizes[positions]).long()
        picks = self.index[self.first[positions] + torch.minimum(offsets, self.sizes[positions] - 1)]
        rows = self.rows[picks.to(self.rows.device)].to(device)
        return torch.cat([rows, self.conditions.of_drawn(rows, positions.to(device))], dim=-1)


Conditioned = SpanConditions | ColumnConditions | RowConditions


def conditions_of(codec: Any, condition: tuple[str, ...], balance: bool, saved: dict[str, Any] | None,
                  train_rows: np.ndarray) -> Conditioned | None:
    """A table's condition vector: on the ``condition`` columns (:mod:`gankit.tasks.table_asked`),
    else with ``balance`` over every one-hot span, else none. From the counts in its training
    rows, or in a run folder's ``saved`` state (which may keep a subsample of the rows but keeps
    the counts of all of them, and, with a number column, the chosen columns' parts of all)."""
    saved = saved or {}
    if condition:
        chosen = _condition_columns(codec, condition)
        names = [column.name for column in chosen]
        if not all(column.categorical for column in chosen):
            kept = RowConditions.from_saved(codec, names, saved, balance)
            if kept is not None:
                return kept
            parts = train_rows[:, span_columns(part_blocks(chosen)).numpy()]
            return RowConditions(codec, names, parts, balance)
        spans = [column.spans()[0] for column in chosen]
        values = [category_values(column) for column in chosen]
        if "condition_patterns" not in saved:
            return ColumnConditions.of_rows(names, values, spans, train_rows, balance)
        return ColumnConditions(names, values, spans, saved["condition_patterns"], saved["condition_counts"],
                                balance)
    spans = codec.spans()
    if not balance or not spans:
        return None
    counts = saved.get("condition_counts")
    if counts is None:
        return SpanConditions.of_rows(spans, train_rows)
    bounds = np.cumsum([end - start for start, end in spans])[:-1]
    return SpanConditions(spans, np.split(np.asarray(counts, dtype=np.int64), bounds))


def _condition_columns(codec: Any, condition: tuple[str, ...]) -> list[Any]:
    """The codec's columns ``data.condition`` names: learned columns (categories or numbers),
    each once; a column the networks do not see (constant, ID) is refused."""
    by_name = {column.name: column for column in codec.columns}
    for name in condition:
        if name not in by_name:
            raise GankitError(f"data.condition names column '{name}', which the table does not have"
                              f"{did_you_mean(name, by_name)}")
        if not by_name[name].width:
            raise GankitError(f"data.condition names column '{name}', a {by_name[name].kind} column, which "
                              "is not learned: conditions on a table are category or number columns")
    if len(set(condition)) < len(condition):
        raise GankitError(f"data.condition names a column twice: {', '.join(condition)}")
    return [by_name[name] for name in condition]


class SpanConditioned:
    """The conditions and G's share term of :class:`gankit.tasks.Task` for a table whose
    ``_conditions`` is a :class:`SpanConditions` (``data.balance``), a ColumnConditions or
    RowConditions (``data.condition``), or None (no conditions)."""

    _conditions: Conditioned | None
    codec: Any
    data: TableData
    _span_columns: torch.Tensor  # the one-hot spans' columns of an encoded row
    match_shares: float
    train_rows: torch.Tensor

    def sampler(self, generator: torch.Generator) -> Sampler:
        """Training-by-sampling's batches with conditions, else epochs of the training rows."""
        rows = self.train_rows.to(generator.device)
        if self._conditions is not None:
            return ConditionedRows(self._conditions, rows, generator)
        return RowSampler(rows, generator)

    def generator_term(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor | None:
        """``data.match_shares`` times :func:`share_gap`: G's one-hot shares held to the real batch's."""
        if not self.match_shares or not len(self._span_columns):
            return None
        return self.match_shares * share_gap(fake, real, self._span_columns)

    @property
    def condition_width(self) -> int:
        return 0 if self._conditions is None else self._conditions.width

    def conditions(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """Conditions drawn by training-by-sampling (``training``) or as the data have them."""
        assert self._conditions is not None
        return self._conditions.draw(n, generator, training)

    def condition_real(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self._conditions is None:
            return x
        return torch.cat([x, self._conditions.of_points(x, generator)], dim=-1)

    @property
    def condition_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.codec.columns if column.width)

    def condition_vector(self, values: dict[str, Any], n: int, device: Any = "cpu",
                         extrapolate: bool = False) -> torch.Tensor:
        asked = self._conditions
        if not isinstance(asked, (ColumnConditions, RowConditions)):
            return Conditions.condition_vector(self, values, n, device, extrapolate)  # type: ignore[arg-type]
        check_condition_names(self, tuple(values), tuple(asked.names), "--condition")
        if isinstance(asked, RowConditions):
            return asked.ask(values, n, device, extrapolate)
        return asked.ask(values, n, device)

    def condition_metrics(self, points: np.ndarray) -> dict[str, float]:
        """``conditional_accuracy``: the share of rows that hold the values asked for; with a
        number column, ``conditional_shapes`` (:mod:`gankit.tasks.table_condition_metrics`)."""
        if isinstance(self._conditions, RowConditions):
            from gankit.tasks.table_condition_metrics import conditional_shapes

            return {"conditional_accuracy": self._conditions.met(points),
                    **conditional_shapes(self.data, self._conditions, points)}
        if not isinstance(self._conditions, ColumnConditions):
            return {}
        return {"conditional_accuracy": self._conditions.met(points)}

    def condition_figure(self, sample: Any, path: Any) -> Any:
        """``by_condition.png`` of a table conditioned on columns (:mod:`gankit.tasks.table_by_condition`)."""
        if not isinstance(self._conditions, (ColumnConditions, RowConditions)):
            return None
        from gankit.tasks.table_by_condition import by_condition_figure

        conditions = self._conditions
        return by_condition_figure(self.data, conditions.names, conditions.columns.numpy(), sample, path)

    @property
    def imposed_numbers(self) -> list[str]:
        """The number columns conditions set in every generated row: they hold the value asked
        for, which ``--extrapolate`` may place past the training range, so decoding does not
        clip them (a column G writes itself is clipped)."""
        if not isinstance(self._conditions, RowConditions):
            return []
        return [column.name for column in self._conditions.chosen if not column.categorical]

    def attach_conditions(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """G's rows with the span each condition names set to the value asked for (a hard
        condition), followed by the conditions."""
        assert self._conditions is not None
        return torch.cat([self._conditions.impose(x, c), c], dim=-1)


def one_hot_head(x: torch.Tensor, groups: list[torch.Tensor]) -> torch.Tensor:
    """A table's output head: each one-hot span (categories, missing indicators; ``groups`` from
    :func:`span_groups`) as an exact one-hot of its largest output, with the gradient of a
    softmax (straight-through); numbers pass as they are. With a plain softmax D tells soft
    fakes from one-hot real rows at a glance: on a mixed table it lost 0.09 of quality_score
    (docs/BENCHMARKS.md, section 13)."""
    if not groups:
        return x
    out = x.clone()
    for index in groups:
        soft = torch.softmax(x[..., index.to(x.device)], dim=-1)
        hard = torch.nn.functional.one_hot(soft.argmax(dim=-1), soft.shape[-1]).to(soft.dtype)
        out[..., index.to(x.device)] = hard - soft.detach() + soft
    return out


def span_groups(spans: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Spans of equal width gathered into one ``[spans, width]`` index: one softmax call per
    width instead of one per column, which matters for wide tables."""
    by_width: dict[int, list[list[int]]] = {}
    for start, end in spans:
        by_width.setdefault(end - start, []).append(list(range(start, end)))
    return [torch.tensor(rows, dtype=torch.long) for rows in by_width.values()]


def share_gap(fake: torch.Tensor, real: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
    """How far the shares of the one-hot ``columns`` in G's batch are from the real batch's, per
    member: ``sum over values of (f - r)^2 / (r + 0.01)``, a chi-square that weighs a rare value's
    shortfall as much as a common one's. ``fake`` and ``real`` are ``[members, batch, width]``;
    G's shares are its hard one-hots with the softmax's gradient (the output head), so the term
    moves the soft probabilities of the values G makes too rarely."""
    index = columns.to(fake.device)
    f = fake[..., index].float().mean(dim=1)
    r = real[..., index].float().mean(dim=1)
    return ((f - r) ** 2 / (r + 0.01)).sum(dim=-1)
