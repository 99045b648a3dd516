"""Columns of a table as the networks see them, and back: type inference, the missing-value
policy, encoding (numbers normalised, categories one-hot) and decoding to a DataFrame.

Decisions, each counted and printed when a table is read:

- **Types** (:mod:`gankit.tasks.table_kinds`). Text columns are categories; ``True``/``False``
  columns booleans; number columns whose values are all whole are integers, and integers with at
  most ``DISCRETE_MAX`` distinct values are categories (a rating, a code); other numbers are
  numeric. Datetimes are learned as numbers and written back in their format; leading-zero codes
  stay text; IDs (a value per row) are not learned but made up fresh. ``data.types``,
  ``data.categorical``, ``data.discrete`` (a numeric column decoded as whole numbers) and
  ``data.drop`` override this. Every column that cannot be learned is named in one error.
- **Missing values.** No row is dropped. A number column with missing values gets a second,
  two-way categorical span (present / missing) beside its value; a category column gets a
  ``missing`` category. Decoding gives back missing values at the rate generated.
- **Columns that carry nothing** (all missing, or one value only) are not given to the networks
  and come back as they were: all missing, or that one value. ID columns are not given to them
  either: generated rows get fresh IDs of the same form.
- **Ranges.** Numbers are normalised with statistics of the training rows only; decoded numbers
  are clipped to the range of the training rows (margin 0) and rounded to the decimals the
  training rows are written with (integers to whole numbers; at most 6 decimals, else not
  rounded), and categories are only values seen in the table.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from gankit.core.errors import GankitError
from gankit.tasks.table_kinds import (
    TYPES,
    check_names,
    column_kind,
    date_numbers,
    date_values,
    describe_columns,
    fresh_ids,
    problems_error,
)

QUANTILES = 1000  # levels of the quantile transform (fewer when there are fewer training rows)
EDGE = 1e-7  # the quantile transform's outermost levels, mapped to about +-5.2 standard deviations
NORMALISATIONS = ("quantile", "standard")
MAX_DECIMALS = 6  # numbers written with more decimals than this are decoded unrounded
PLAIN = (str, bool, int, float, type(None))  # category values a run folder keeps (JSON's own)


@dataclass
class Column:
    """One column of the user's table and where it sits in an encoded row."""

    name: str
    kind: str  # numeric, integer, datetime, code, categorical, boolean, constant, id
    dtype: Any  # the dtype pandas read, restored on decoding
    start: int = 0
    width: int = 0
    has_missing: bool = False
    missing: int = 0  # missing values in the whole table
    categories: list[Any] = field(default_factory=list)  # categorical, boolean; constant: [value]
    low: float = 0.0  # numeric, integer: the training rows' range
    high: float = 0.0
    quantiles: np.ndarray | None = None  # numeric, integer under 'quantile'
    mean: float = 0.0  # numeric, integer under 'standard'
    std: float = 1.0
    decimals: int | None = None  # numeric: the decimals the training rows are written with (0 to 6)
    form: str = ""  # datetime: its strftime format ('' for a datetime dtype); id: int, seq, hex, name
    unit: str = ""  # datetime: 'D' (days since 1970) or 's' (seconds)
    digits: int = 0  # code: the width its digits are written with; id (seq): the same, 0 unpadded
    prefix: str = ""  # id: the text before the digits (seq), the template (hex)
    suffix: str = ""  # id: the text after the digits (seq), 'upper' for upper-case hex

    @property
    def numeric(self) -> bool:
        return self.kind in ("numeric", "integer", "datetime", "code")

    @property
    def categorical(self) -> bool:
        return self.kind in ("categorical", "boolean")

    def spans(self) -> list[tuple[int, int]]:
        """The one-hot spans a softmax applies to: the categories, or the missing indicator."""
        if self.categorical:
            return [(self.start, self.start + self.width)]
        if self.numeric and self.has_missing:
            return [(self.start + 1, self.start + 3)]
        return []

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON keeps it (numpy scalars as Python's, the dtype by its name),
        ``quantiles`` as the float64 array it is."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["dtype"] = str(self.dtype)
        out["categories"] = [v.item() if isinstance(v, np.generic) else v for v in self.categories]
        odd = [v for v in out["categories"] if not isinstance(v, PLAIN)]
        if odd:
            raise GankitError(f"column '{self.name}' holds {odd[0]!r} ({type(odd[0]).__name__}), which a "
                              "run folder cannot keep; convert the column to text or numbers")
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Column:
        values = dict(values)
        values["dtype"] = pd.api.types.pandas_dtype(values["dtype"])
        if values["quantiles"] is not None:
            values["quantiles"] = np.asarray(values["quantiles"], dtype=np.float64)
        return cls(**values)


def _decimals(numbers: np.ndarray) -> int | None:
    """The fewest decimals (up to MAX_DECIMALS) that write every value exactly: decoded numbers
    are rounded to them, so a column of lengths in millimetres does not come back as 2.9000413."""
    sample = numbers[:10_000]
    for decimals in range(MAX_DECIMALS + 1):
        scaled = sample * 10.0**decimals
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, np.abs(scaled))):
            return decimals
    return None


def _numbers(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def column_numbers(column: Column, series: pd.Series) -> np.ndarray:
    """A learned-as-numbers column's values as float64 numbers, NaN for missing."""
    if column.kind == "datetime":
        return date_numbers(series, column.form, column.unit)
    if not pd.api.types.is_numeric_dtype(series.dtype):  # codes; a text column typed as numbers
        return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return _numbers(series)


def _as_numbers(name: str, series: pd.Series) -> pd.Series:
    """A text column that data.types says is numbers, as numbers."""
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna()
    if bad.any():
        raise GankitError(f"column '{name}' is typed as numbers by data.types but holds "
                          f"{series[bad].iloc[0]!r} on line {bad.idxmax() + 2}")
    return numbers


def _fit_column(name: str, series: pd.Series, train: pd.Series, forced: str, normalise: str) -> Column:
    """One column's kind (see :func:`_kind`) and statistics: categories from every row (a
    held-out row may hold a rare category no training row has), numbers from ``train``."""
    types = pd.api.types
    if forced in ("numeric", "integer") and not types.is_numeric_dtype(series.dtype):
        series, train = _as_numbers(name, series), _as_numbers(name, train)
    numeric = types.is_numeric_dtype(series.dtype) and not types.is_bool_dtype(series.dtype) and (
        forced != "categorical")
    full = _numbers(series) if numeric else None
    missing = np.isnan(full) if full is not None else series.isna().to_numpy()
    column = Column(name, "", series.dtype, 0, 0, bool(missing.any()), int(missing.sum()))
    values = full[~missing] if full is not None else None
    column.kind = kind = column_kind(column, series[~missing], values, len(series), forced)
    if kind == "constant":
        present = series.dropna()
        column.categories = [present.iloc[0]] if len(present) else []
    elif column.categorical:
        seen = values.tolist() if values is not None else series.dropna().tolist()
        if kind == "boolean":
            column.categories = [False, True]
        else:
            column.categories = sorted(set(seen), key=lambda v: (str(type(v)), v))
            if values is not None and types.is_integer_dtype(series.dtype):
                column.categories = [int(v) for v in column.categories]
        column.width = len(column.categories) + column.has_missing
    elif column.numeric:
        numbers = column_numbers(column, train)
        numbers = numbers[~np.isnan(numbers)]
        if len(numbers) == 0:  # every value of the column is in held-out rows
            numbers = column_numbers(column, series)
            numbers = numbers[~np.isnan(numbers)]
        column.low, column.high = float(numbers.min()), float(numbers.max())
        column.decimals = _decimals(numbers) if kind == "numeric" else 0
        if normalise == "quantile":
            levels = np.linspace(0, 1, min(QUANTILES, len(numbers)))
            column.quantiles = np.quantile(numbers, levels)
        else:
            column.mean, column.std = float(numbers.mean()), float(numbers.std()) or 1.0
        column.width = 1 + 2 * column.has_missing
    return column


@dataclass
class TableCodec:
    """Encodes rows of one table and decodes generated rows back, fitted on the training rows."""

    columns: list[Column]
    normalise: str = "quantile"

    @classmethod
    def fit(cls, frame: pd.DataFrame, train: pd.DataFrame, categorical: tuple[str, ...] = (),
            discrete: tuple[str, ...] = (), normalise: str = "quantile",
            types: dict[str, str] | None = None) -> TableCodec:
        """Column types from the whole ``frame``; statistics and categories from ``train``.
        ``types``: ``{column: kind}`` (``data.types``), over any guess. Every column that cannot
        be learned is named in one GankitError."""
        if normalise not in NORMALISATIONS:
            raise GankitError(f"data.normalise must be one of {', '.join(NORMALISATIONS)}, got '{normalise}'")
        names = [str(c) for c in frame.columns]
        types = dict(types or {})
        for key, listed in (("categorical", categorical), ("discrete", discrete), ("types", types)):
            check_names(key, listed, names)
        columns, problems, start = [], [], 0
        for name in frame.columns:
            forced = types.get(str(name), "")
            forced = TYPES.get(forced, forced) or ("categorical" if name in categorical else "") or (
                "integer" if name in discrete else "")
            try:
                column = _fit_column(str(name), frame[name], train[name], forced, normalise)
            except GankitError as exc:
                problems.append(str(exc))
                continue
            column.start = start
            start += column.width
            columns.append(column)
        if problems:
            raise problems_error(problems)
        return cls(columns, normalise)

    def to_dict(self) -> dict[str, Any]:
        """The fitted codec as plain values and float arrays (each column's quantiles), for a
        run folder: :meth:`from_dict` gives back a codec that encodes and decodes exactly so."""
        return {"normalise": self.normalise, "columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TableCodec:
        return cls([Column.from_dict(c) for c in values["columns"]], values["normalise"])

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns)

    def spans(self) -> list[tuple[int, int]]:
        return [span for column in self.columns for span in column.spans()]

    # numbers <-> the normalised values the networks see
    def _forward(self, column: Column, x: np.ndarray) -> np.ndarray:
        if column.quantiles is None:
            return (x - column.mean) / column.std
        q = column.quantiles
        levels = np.linspace(0, 1, len(q))
        # the average of the interpolations from both ends spreads ties (sklearn's QuantileTransformer)
        u = 0.5 * (np.interp(x, q, levels) - np.interp(-x, -q[::-1], -levels[::-1]))
        return ndtri(np.clip(u, EDGE, 1 - EDGE))

    def _inverse(self, column: Column, z: np.ndarray, extend: bool = False) -> np.ndarray:
        """Normalised values -> numbers in the training range; ``extend``: past the ends of the
        range, the straight line :func:`gankit.tasks.table_numbers.number_part` asks with."""
        if column.quantiles is None:
            x = z * column.std + column.mean
        else:
            x = np.interp(ndtr(z), np.linspace(0, 1, len(column.quantiles)), column.quantiles)
        x = np.clip(x, column.low, column.high)
        if extend and column.high > column.low:
            z_low, z_high = self.range_ends(column)
            slope = (column.high - column.low) / (z_high - z_low)
            x = np.where(z > z_high, column.high + (z - z_high) * slope, x)
            x = np.where(z < z_low, column.low + (z - z_low) * slope, x)
        return x if column.decimals is None else np.round(x, column.decimals)

    def range_ends(self, column: Column) -> tuple[float, float]:
        """The normalised values of a number column's lowest and highest training values, as an
        encoded row holds them (float32): past the range, a requested value's part and its
        decoding follow the straight line through these two points."""
        z = self._forward(column, np.array([column.low, column.high])).astype(np.float32)
        return float(z[0]), float(z[1])

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows of the user's table -> ``[rows, width]`` float32; unseen categories are an error."""
        return self.encode_views(self.views_of(frame))

    def views_of(self, frame: pd.DataFrame) -> list[np.ndarray]:
        """Per modelled column of a table: numbers (NaN for missing) or category codes."""
        return [self.codes_of(c, frame[c.name]) if c.categorical else column_numbers(c, frame[c.name])
                for c in self.modelled]

    def encode_views(self, views: list[np.ndarray]) -> np.ndarray:
        """Per-column numbers or codes (see :meth:`views`) -> encoded rows."""
        rows = len(views[0]) if views else 0
        out = np.zeros((rows, self.width), dtype=np.float32)
        every = np.arange(rows)
        for column, view in zip(self.modelled, views):
            if column.categorical:
                out[every, column.start + view] = 1
                continue
            missing = np.isnan(view)
            z = self._forward(column, np.where(missing, column.low, view))
            out[:, column.start] = np.where(missing, 0.0, z)
            if column.has_missing:
                out[every, column.start + 1 + missing.astype(np.int64)] = 1
        return out

    def codes_of(self, column: Column, values: pd.Series) -> np.ndarray:
        """Category indices of real values, the missing category last."""
        missing = values.isna().to_numpy()
        codes = np.asarray(pd.Categorical(values, categories=column.categories).codes, dtype=np.int64)
        unseen = (codes < 0) & ~missing
        if unseen.any():
            raise GankitError(f"column '{column.name}' holds {values[unseen].iloc[0]!r}, a value the "
                              "training rows do not have")
        return np.where(missing, len(column.categories), codes)

    def views(self, encoded: np.ndarray, extended: Collection[str] = ()) -> list[np.ndarray]:
        """Per modelled column of encoded rows: decoded numbers (clipped, rounded; NaN for
        missing) or category codes (the missing category last). Number columns named in
        ``extended`` are not clipped (see :meth:`_inverse`)."""
        views = []
        for column in self.modelled:
            block = encoded[:, column.start:column.start + column.width]
            if column.categorical:
                views.append(block.argmax(axis=1))
                continue
            x = self._inverse(column, block[:, 0].astype(np.float64), column.name in extended)
            if column.has_missing:
                x = np.where(block[:, 2] > block[:, 1], np.nan, x)
            views.append(x)
        return views

    def harden(self, encoded: np.ndarray) -> np.ndarray:
        """Encoded rows as a user gets them, encoded again: exact one-hots, numbers clipped and
        rounded. Equal to ``encode(decode(x))``, without building a DataFrame."""
        return self.encode_views(self.views(encoded))

    @property
    def modelled(self) -> list[Column]:
        return [c for c in self.columns if c.width]

    def decode(self, encoded: np.ndarray, extended: Collection[str] = ()) -> pd.DataFrame:
        """Generated rows -> a DataFrame with the original header, column order and dtypes;
        ``extended`` as in :meth:`views`."""
        encoded = np.asarray(encoded)
        views = iter(self.views(encoded, extended))
        data: dict[str, Any] = {}
        for column in self.columns:
            if column.kind == "constant":
                value = column.categories[0] if column.categories else None
                data[column.name] = _typed(np.full(len(encoded), value, dtype=object), column)
            elif column.kind == "id":
                data[column.name] = fresh_ids(column, len(encoded))
            elif column.kind == "datetime":
                data[column.name] = date_values(next(views), column.form, column.unit, column.dtype)
            elif column.kind == "code":
                data[column.name] = pd.Series([None if np.isnan(v) else str(int(v)).zfill(column.digits)
                                               for v in next(views)], dtype=object)
            elif column.categorical:
                table = np.array([*column.categories, None], dtype=object)
                data[column.name] = _typed(table[next(views)], column)
            else:
                data[column.name] = _typed(next(views), column)
        return pd.DataFrame(data, columns=[c.name for c in self.columns], copy=False)

    def fresh_ids(self, frame: pd.DataFrame, offset: int) -> pd.DataFrame:
        """Decoded rows with their ID columns made up again from the ``offset``-th fresh ID on:
        the chunks of one sample get IDs no other chunk has."""
        for column in self.columns:
            if column.kind == "id":
                frame[column.name] = fresh_ids(column, len(frame), offset)
        return frame

    def describe(self) -> list[str]:
        """One phrase per decision taken on the columns, with counts."""
        return describe_columns(self.columns, self.width, self.normalise)


def _typed(values: np.ndarray, column: Column) -> Any:
    """A decoded column in the dtype it was read with. Whole numbers in a column that had missing
    values (which pandas reads as floats) become pandas' nullable Int64, so they stay whole
    numbers on writing, whether or not this sample has missing values. Plain float columns stay
    numpy arrays: a wide table is one block, not thousands of Series."""
    dtype = column.dtype
    if pd.api.types.is_float_dtype(dtype) and column.kind in ("numeric", "integer") and not (
            column.kind == "integer" and column.has_missing):
        return values.astype(dtype, copy=False)
    series = pd.Series(values)
    if column.kind == "boolean" or pd.api.types.is_bool_dtype(dtype):
        return series.astype("boolean" if column.has_missing else bool)
    whole = column.kind == "integer" or (column.kind == "categorical" and all(
        isinstance(v, (int, float, np.number)) and float(v).is_integer() for v in column.categories))
    if pd.api.types.is_integer_dtype(dtype) or (pd.api.types.is_float_dtype(dtype) and whole
                                                and column.has_missing):
        return series.astype("Int64" if column.has_missing else dtype)
    if pd.api.types.is_float_dtype(dtype):
        return series.astype(dtype)
    return series.astype(object)
