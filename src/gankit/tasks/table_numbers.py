"""A number column asked for by value (``--condition age=40``): the value read and checked, and
the encoded part of a row that holds it, which is what the condition vector carries.

Why the encoded part: the codec writes a number column as its normalised value ``z`` (and, for
a column with missing values, a present/missing one-hot beside it). A condition vector made of
that very part can be written into G's row as it is (a hard condition, as for categories):
the row then decodes to the value asked for, up to the rounding the column is written with, and
G and D read the value in the scale they already use for the column. The value itself (or a
min-max scaling of it) would need a second map from the condition to the row, and would crowd a
heavy-tailed column's common values into a sliver beside its outliers, where the quantile
transform spreads them by rank. Missing values are a value of the condition: a column with
missing values can be asked ``age=missing`` (its part is then ``[0, 0, 1]``, as the codec
encodes a missing value), and training asks for them as often as the training rows have them;
a column without any refuses it. An integer column (or a code) must be asked a whole number;
a numeric one is asked any number in range and written with its decimals. Beyond the range
(``extrapolate``), see :func:`number_part`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gankit.core.errors import GankitError

if TYPE_CHECKING:
    from gankit.tasks.table_codec import Column, TableCodec

MISSING_WORDS = ("missing", "nan", "")  # what asks a number column for a missing value (any case)


def is_missing(value: Any) -> bool:
    """Whether an asked value means a missing value: None, NaN or a word of ``MISSING_WORDS``."""
    if isinstance(value, str):
        return value.strip().lower() in MISSING_WORDS
    try:
        return bool(pd.isna(value))  # None, NaN of any float type, pandas' NA
    except (TypeError, ValueError):  # a list or an array: not one value, let reading refuse it
        return False


def shown(column: Column, x: float) -> str:
    """A number of a learned-as-numbers column as the user writes it (a date as a date)."""
    if column.kind == "datetime":
        from gankit.tasks.table_kinds import date_values

        return str(date_values(np.array([x]), column.form, column.unit, column.dtype).iloc[0])
    if column.kind == "code":
        return str(int(x)).zfill(column.digits)
    return f"{x:g}"


def read_number(column: Column, value: Any, extrapolate: bool = False) -> float:
    """The number ``value`` asks column ``column`` for (NaN: missing), checked: a number (a date
    in the column's format for a datetime column), whole for an integer column, within the
    training rows' range unless ``extrapolate``; missing only where the column has missing values."""
    from gankit.tasks.table_codec import column_numbers

    name, span = column.name, f"[{shown(column, column.low)}, {shown(column, column.high)}]"
    if is_missing(value):
        if not column.has_missing:
            raise GankitError(f"column '{name}' has no missing values: ask for a number in its training "
                              f"range {span}")
        return float("nan")
    if isinstance(value, (bool, np.bool_)):
        raise GankitError(f"condition {name} must be a number in {span}, got {value!r}")
    try:
        x = float(column_numbers(column, pd.Series([value]))[0])
    except (GankitError, TypeError, ValueError):
        x = float("nan")
    if math.isnan(x) or math.isinf(x):
        hint = f" written as {column.form}" if column.kind == "datetime" and column.form else ""
        raise GankitError(f"condition {name} must be a number{hint}, with '.' as the decimal mark "
                          f"(column '{name}' is {column.kind}, training range {span}), got {value!r}")
    if column.kind in ("integer", "code") and x != round(x):
        raise GankitError(f"column '{name}' holds whole numbers: ask for one, e.g. {name}={round(x)}, "
                          f"got {value!r}")
    if not (column.low <= x <= column.high or extrapolate):
        raise GankitError(f"condition {name}={shown(column, x)} is outside the training rows' range {span}; "
                          "--extrapolate asks for it anyway")
    return x


def _encoded(codec: TableCodec, column: Column, x: float) -> np.ndarray:
    """The part of an encoded row that ``column`` takes, for a row holding ``x`` there (the
    other columns' parts are left out, so their placeholder values do not matter)."""
    views = [np.zeros(1, dtype=np.int64) if c.categorical else np.full(1, np.nan) for c in codec.modelled]
    views[codec.modelled.index(column)] = np.array([x])
    return codec.encode_views(views)[0, column.start:column.start + column.width]


def number_part(codec: TableCodec, column: Column, x: float) -> np.ndarray:
    """The encoded part of a row (``column.width`` float32 values) holding ``x`` (NaN: missing),
    by the codec's own encoding of a row. Beyond the training range the normalised value goes on
    in a straight line, with the slope from one end of the range to the other (the standard
    scaling's own slope): G is asked for a value it never saw. The row holds this part as it is,
    and the codec decodes an imposed number column along the same line (``TableCodec.decode``'s
    ``extended``), so the written column holds the value asked for; the numbers G writes itself
    stay clipped to the training range."""
    if math.isnan(x) or column.low <= x <= column.high or column.high <= column.low:
        return _encoded(codec, column, x)
    end = column.high if x > column.high else column.low
    part = _encoded(codec, column, end)
    z_low, z_high = codec.range_ends(column)
    part[0] = np.float32(part[0] + (x - end) * (z_high - z_low) / (column.high - column.low))
    return part
