"""What each column of a table is, from its values (or from ``data.types``), for
:class:`gankit.tasks.table_codec.TableCodec`; and the column kinds that are not plain numbers or
categories: datetimes, leading-zero codes and IDs.

Kinds, in the order they are tried:

- ``constant``: one value or none; copied, not learned.
- ``datetime``: text that parses in one of ``DATE_FORMATS`` (ISO dates and datetimes; ``dd/mm/yyyy``
  or ``mm/dd/yyyy`` only when the values tell which) or a datetime column of a Parquet file.
  Learned as whole days (dates) or seconds (datetimes) since 1970-01-01, written back in the
  file's own format, within the training rows' range.
- ``id``: a value per row, all different, none missing: whole numbers that run 1..n (or any,
  in a column named like ``id``, ``user_id``, ``key``), or text of one form (``A-00017``: a
  prefix, digits, a suffix; or hexadecimal like a UUID). Not learned: generated rows get fresh
  values of the same form (numbers after the largest, or random hexadecimal).
- ``code``: digit strings with leading zeros (``01234``, ``00501``), kept as text: a category of
  strings while few, else (all of one width) learned as whole numbers written back with their
  zeros. The reader (:mod:`gankit.tasks.table_io`) keeps such columns as text.
- ``boolean``, ``categorical``, ``integer``, ``numeric`` as before: text is categories; whole
  numbers with at most ``DISCRETE_MAX`` distinct values are categories, else integers.

A column that fits none (free text, numbers mixed with text, infinite values) is a problem; the
codec reports every problem column of a table at once, each with the ``--set`` line that fixes it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from gankit.core.errors import GankitError, did_you_mean

DISCRETE_MAX = 10  # whole-number columns with at most this many distinct values are categories
NUMERIC_SHARE = 0.9  # a text column where this share of values are numbers is a broken number column
CATEGORIES_MAX = 1000  # more distinct values than this (or than half the rows) is not a category
# data.types values; each alias maps to a kind
TYPES = {"category": "categorical", "categorical": "categorical", "number": "numeric",
         "numeric": "numeric", "integer": "integer", "datetime": "datetime", "id": "id"}
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M", "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y",
                "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
                "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d-%m-%Y", "%m-%d-%Y")
DAY = 86_400
_ID_WORDS = {"id", "ids", "key", "index", "idx", "uuid", "guid"}


def check_types(value: Any) -> dict[str, str]:
    """``data.types`` as ``{column: kind}``; a kind is one of ``TYPES`` or ``datetime:FORMAT``."""
    if not isinstance(value, dict):
        raise GankitError(f"data.types must be a table of column = type, e.g. --set data.types.zip=category, "
                          f"got {value!r}")
    for name, kind in value.items():
        if not isinstance(kind, str) or (kind not in TYPES and not kind.startswith("datetime:")):
            raise GankitError(f"data.types.{name} must be one of {', '.join(TYPES)} (or datetime:FORMAT, "
                              f"e.g. datetime:%m/%d/%Y), got {kind!r}")
    return dict(value)


def check_names(key: str, names: Any, columns: list[str]) -> None:
    for name in names:
        if name not in columns:
            raise GankitError(f"data.{key} names column '{name}', which the table does not have"
                              f"{did_you_mean(name, columns)}")


def set_line(name: str, value: str) -> str:
    """The ``--set`` line giving column ``name`` the type ``value``."""
    if re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return f"--set data.types.{name}={value}"
    return f"--set 'data.types={{\"{name}\"=\"{value}\"}}'"


def drop_line(name: str) -> str:
    return f"--set 'data.drop=[\"{name}\"]'"


# datetimes
def date_format(values: pd.Series, forced: str = "") -> str | None:
    """The format every value of a text column is written in, or None (``forced``: the user's
    format; ``"datetime"`` alone takes the day first where both orders fit)."""
    if forced.startswith("datetime:"):
        return forced.removeprefix("datetime:")
    text = values.astype(str)
    if not re.search(r"\d[-/.]\d", text.iloc[0]):
        return None
    fits = [f for f in DATE_FORMATS if _parses(text.iloc[:50], f) and _parses(text, f)]
    if "%d/%m/%Y" in fits and "%m/%d/%Y" in fits and not forced:
        fits = [f for f in fits if not f.startswith(("%d/%m", "%m/%d"))]  # ambiguous: not a date
    return fits[0] if fits else None


def _parses(text: pd.Series, fmt: str) -> bool:
    return bool(pd.to_datetime(text, format=fmt, errors="coerce").notna().all())


def date_unit(fmt: str) -> str:
    return "s" if "%H" in fmt or not fmt else "D"


def date_numbers(values: pd.Series, fmt: str, unit: str) -> np.ndarray:
    """Days or seconds since 1970 (NaN for missing) of datetimes, text written in ``fmt``."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = pd.Series(values)
    else:
        parsed = pd.to_datetime(values.astype(object).where(values.notna(), None), format=fmt,
                                errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    bad = parsed.isna() & values.notna()
    if bad.any():
        raise GankitError(f"a datetime column holds {values[bad].iloc[0]!r}, not written as {fmt}")
    seconds = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[s]").astype(np.int64)
    numbers = (seconds // DAY if unit == "D" else seconds).astype(np.float64)
    return np.where(parsed.isna().to_numpy(), np.nan, numbers)


def date_values(numbers: np.ndarray, fmt: str, unit: str, dtype: Any) -> pd.Series:
    """Days or seconds since 1970 back to datetimes as the table had them."""
    stamps = pd.Series(pd.to_datetime(numbers, unit=unit))
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return stamps
    return stamps.dt.strftime(fmt).astype(object).where(stamps.notna(), None)


# IDs
def _id_name(name: str) -> bool:
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name)
    return bool({w.lower() for w in words} & _ID_WORDS)


def id_form(name: str, values: pd.Series, rows: int, forced: bool) -> dict[str, Any] | None:
    """How the IDs of a column are written (see :func:`fresh_ids`), or None when it is not one:
    a value per row, all different (unless ``forced``)."""
    if not forced and (len(values) != rows or values.nunique() != rows):
        return None
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64)
        if not np.all(numbers == np.round(numbers)):
            return None if not forced else {"form": "name", "high": 0.0}
        consecutive = numbers.max() - numbers.min() + 1 == rows
        if forced or consecutive or _id_name(name):
            return {"form": "int", "high": float(numbers.max())}
        return None
    text = values.astype(str)
    parts = text.str.extract(r"^(\D*?)(\d+)(\D*)$")
    if not parts.isna().any().any() and parts[0].nunique() == 1 and parts[2].nunique() == 1:
        widths = parts[1].str.len()
        digits = int(widths.iloc[0]) if widths.nunique() == 1 and parts[1].str.startswith("0").any() else 0
        return {"form": "seq", "prefix": parts[0].iloc[0], "suffix": parts[2].iloc[0], "digits": digits,
                "high": float(parts[1].astype(np.int64).max())}
    template = text.str.replace(r"[0-9a-fA-F]", "x", regex=True)
    if (template.nunique() == 1 and set(template.iloc[0]) <= {"x", "-"} and template.iloc[0].count("x") >= 8
            and text.str.contains("[a-fA-F]").any()):
        upper = bool(text.str.contains("[A-F]").any()) and not text.str.contains("[a-f]").any()
        return {"form": "hex", "prefix": template.iloc[0], "suffix": "upper" if upper else ""}
    return {"form": "name", "high": 0.0} if forced else None


def fresh_ids(column: Any, n: int, offset: int = 0) -> np.ndarray:
    """``n`` new IDs of the column's form, none of the table's: the numbers after its largest
    (from the ``offset``-th on: each chunk of a sample writes its own), or random hexadecimal."""
    k = np.arange(n, dtype=np.int64) + int(column.high) + 1 + offset
    if column.form == "int":
        return k
    if column.form == "seq":
        return np.array([f"{column.prefix}{str(v).zfill(column.digits)}{column.suffix}" for v in k],
                        dtype=object)
    if column.form == "hex":
        rng = np.random.default_rng(offset)
        slots = column.prefix.count("x")
        alphabet = np.array(list("0123456789ABCDEF" if column.suffix == "upper" else "0123456789abcdef"))
        out = []
        for row in alphabet[rng.integers(0, 16, (n, slots))]:
            chars = iter(row)
            out.append("".join(next(chars) if c == "x" else c for c in column.prefix))
        return np.array(out, dtype=object)
    return np.array([f"{column.name}-{v}" for v in k], dtype=object)


# codes
def code_width(values: pd.Series) -> int | None:
    """The width of digit strings with leading zeros, all of one width (0: widths differ); None
    when the text is not such codes."""
    if not all(isinstance(v, str) for v in values):
        return None
    text = values.astype(str)
    if not text.str.fullmatch(r"\d+").all() or not text.str.match(r"0\d").any():
        return None
    widths = text.str.len()
    return int(widths.iloc[0]) if widths.nunique() == 1 else 0


# kinds
def _whole(values: np.ndarray) -> bool:
    return bool(np.all(values == np.round(values)))


def text_kind(name: str, values: pd.Series, rows: int, categorical: bool) -> str:
    """The kind of a text (or mixed) column from its non-missing values, or a GankitError that
    names the ``--set`` line that fixes it."""
    if categorical:
        return "categorical"
    if pd.api.types.is_bool_dtype(values) or all(isinstance(v, (bool, np.bool_)) for v in values):
        return "boolean"
    distinct = values.nunique()
    many = distinct > CATEGORIES_MAX or (distinct > 20 and distinct > rows / 2)
    width = code_width(values)
    if width is not None:
        if not many:
            return "categorical"
        if width:
            return "code"
    else:
        numbers = pd.to_numeric(values, errors="coerce")
        bad = numbers.isna()
        if bad.mean() <= 1 - NUMERIC_SHARE:
            first = bad.idxmax()
            raise GankitError(f"column '{name}' holds numbers but also {int(bad.sum())} text value(s), e.g. "
                              f"{values[first]!r} on line {first + 2}: if they mark missing values, --set "
                              f"'data.na_values=[\"{values[first]}\"]', else {set_line(name, 'category')}")
    if many:
        raise GankitError(f"column '{name}' has {distinct} distinct text values in {rows} rows, too many to "
                          f"learn as categories (an identifier or free text?): {drop_line(name)} leaves it "
                          f"out, {set_line(name, 'id')} makes up new values")
    return "categorical"


def column_kind(column: Any, present: pd.Series, values: np.ndarray | None, rows: int, forced: str) -> str:
    """The column's kind from its non-missing values (``values``: as numbers, when it is numbers),
    setting what a datetime, code or ID column keeps (see :mod:`gankit.tasks.table_kinds`)."""
    name = column.name
    if (len(np.unique(values)) if values is not None else present.nunique()) <= 1:
        return "constant"
    if pd.api.types.is_datetime64_any_dtype(present.dtype) and forced in ("", "datetime"):
        column.unit = "s"
        return "datetime"
    if values is None and forced in ("", "datetime") or forced.startswith("datetime:"):
        fmt = date_format(present, forced)
        if fmt is not None:
            column.form, column.unit = fmt, date_unit(fmt)
            return "datetime"
        if forced:
            raise GankitError(f"column '{name}' is typed as datetime but its values are in none of the "
                              f"formats gankit knows: name it, e.g. {set_line(name, 'datetime:%d %b %Y')}")
    if values is not None and forced != "id":
        kind = "numeric" if forced == "numeric" else number_kind(name, values, forced == "integer")
        integers = pd.api.types.is_integer_dtype(present.dtype)  # IDs are not written 17.0
        if kind != "integer" or forced or not integers or len(np.unique(values)) != rows:
            return kind
    if forced == "id" or (not forced and not column.has_missing and present.nunique() == rows):
        form = id_form(name, present, rows, forced == "id")
        if form is not None:
            for key, value in form.items():
                setattr(column, key, value)
            return "id"
    if values is not None:
        return "integer"
    kind = text_kind(name, present, rows, forced == "categorical")
    if kind == "code":
        column.digits = code_width(present) or 0
    return kind


def number_kind(name: str, values: np.ndarray, discrete: bool) -> str:
    """The kind of a column pandas read as numbers, from its non-missing values, in numpy (a
    wide table has thousands of them)."""
    distinct = len(np.unique(values))
    if distinct <= 1:
        return "constant"
    if not np.isfinite(values).all():
        raise GankitError(f"column '{name}' holds infinite values: replace them, or {drop_line(name)}")
    if discrete:
        return "integer"
    if _whole(values):
        return "categorical" if distinct <= DISCRETE_MAX else "integer"
    return "numeric"


def describe_columns(columns: list[Any], width: int, normalise: str) -> list[str]:
    """One phrase per decision taken on a codec's columns, with counts."""
    counts: dict[str, list[str]] = {}
    for column in columns:
        counts.setdefault(column.kind, []).append(column.name)
    kinds = ", ".join(f"{len(names)} {kind}" for kind, names in counts.items())
    parts = [f"{len(columns)} columns ({kinds}; {width} encoded values, numbers by {normalise} transform)"]
    numbers = [f"{c.name} ({c.missing})" for c in columns if c.numeric and c.has_missing]
    categories = [f"{c.name} ({c.missing})" for c in columns if c.categorical and c.has_missing]
    if numbers:
        parts.append(f"{len(numbers)} number column(s) with missing values get a missing indicator "
                     f"(missing values): {_few(numbers)}")
    if categories:
        parts.append(f"{len(categories)} category column(s) with missing values get a 'missing' "
                     f"category (missing values): {_few(categories)}")
    if "constant" in counts:
        parts.append(f"{len(counts['constant'])} column(s) with one value or none are copied, not "
                     f"learned: {_few(counts['constant'])}")
    dates = [f"{c.name} ({c.form or 'datetime'})" for c in columns if c.kind == "datetime"]
    if dates:
        parts.append(f"{len(dates)} datetime column(s) learned as days or seconds since 1970, written "
                     f"back in their format: {_few(dates)}")
    codes = [c.name for c in columns if c.kind == "code" or (
        c.kind == "categorical" and c.categories and code_width(pd.Series(c.categories)) is not None)]
    if codes:
        parts.append(f"{len(codes)} column(s) of codes with leading zeros kept as text: {_few(codes)}")
    ids = [f"{c.name} ({_id_example(c)})" for c in columns if c.kind == "id"]
    if ids:
        parts.append(f"{len(ids)} ID column(s), a different value on every row, not learned: generated "
                     f"rows get new IDs of the same form: {_few(ids)}")
    return parts


def _id_example(column: Any) -> str:
    return f"e.g. {fresh_ids(column, 1)[0]}"


def _few(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def problems_error(problems: list[str]) -> GankitError:
    """One error for every problem column of a table (the message of one, when one)."""
    if len(problems) == 1:
        return GankitError(problems[0])
    listed = " | ".join(f"({k}) {p}" for k, p in enumerate(problems, 1))
    return GankitError(f"{len(problems)} columns cannot be learned as they are: {listed}")
