"""Reading a user's table (CSV/TSV text, compressed or not, Parquet, or a 2-D .npy array) into a
pandas DataFrame, refusing what cannot be read faithfully with one line that names the problem.

Text files as people have them:

- **Compression** by the last suffix: ``.gz``, ``.bz2``, ``.xz``, ``.zip`` (one file inside),
  e.g. ``table.csv.gz``. ``.parquet`` needs ``pyarrow`` (``pip install 'gankit[parquet]'``).
- **Encoding**: UTF-8 by default, a byte-order mark (Excel's UTF-8, or UTF-16) honoured;
  ``data.encoding`` names another (``latin-1``, ``cp1252``, ...).
- **Dialect**: the separator (``,`` ``;`` tab ``|``) is sniffed from the first lines (the one
  splitting every line into the same number of fields, the most of them), and the decimal mark
  (``,`` in a file not separated by commas whose numbers read ``3,14`` and never ``3.14``);
  ``data.sep`` and ``data.decimal`` override both.
- **Missing values**: an empty field, and only the markers in ``NA_STRINGS`` (``NaN``, ``nan``,
  ``NULL``, ``null``, ``N/A``, ``n/a``, ``#N/A``, ``<NA>``). pandas' own list is too eager:
  ``NA`` (North America) and ``None`` stay text unless ``data.na_values`` lists them, except in a
  column that is numbers (or booleans) but for pandas' markers, where they can only mean missing.
- **Codes with leading zeros** (``01234``, ``00501``) are kept as text, never turned into numbers.

A first pass with the ``csv`` module checks what pandas would silently repair: duplicate column
names (pandas renames them ``a.1``) and rows with another number of fields than the header (pandas
pads them with missing values), each reported with its line number.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import hashlib
import io
import lzma
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit.core.errors import GankitError

if TYPE_CHECKING:
    import pandas as pd

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
COMPRESSIONS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open, ".zip": None}
SUFFIXES = (".csv", ".tsv", ".npy", ".parquet")  # and TEXT_SUFFIXES + a compression, e.g. .csv.gz
SEPARATORS = (",", ";", "\t", "|")
SNIFF_LINES = 50
MIN_ROWS = 10  # a held-out share and a training share both need a few rows
# The only strings read as missing by default, besides an empty field. pandas' default list also
# has "NA", "None", "#NA", "-NaN", "-nan", "1.#IND", ...: those stay text unless data.na_values
# lists them (see the module's docstring for the one exception, number columns).
NA_STRINGS = ("", "NaN", "nan", "NULL", "null", "N/A", "n/a", "#N/A", "<NA>")
PANDAS_NA = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
             "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
_DECIMAL_COMMA = re.compile(r"[+-]?\d*,\d+")
_DECIMAL_POINT = re.compile(r"[+-]?\d*\.\d+")
_LEADING_ZERO = r"^[+-]?0\d"


@dataclass
class Dialect:
    """How a text table is written: what reading found, and what writing samples reuses."""

    sep: str = ","
    decimal: str = "."
    encoding: str = "utf-8"

    def describe(self) -> str:
        name = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(self.sep, repr(self.sep))
        return f"{name}-separated, decimal mark '{self.decimal}', {self.encoding}"


def fingerprint(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256: a run records it, so that evaluating or
    sampling later refuses a file that changed (its held-out rows would be other rows)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def table_suffix(path: str | Path) -> tuple[str, str]:
    """The table's own suffix and its compression's ('' for none): ``('.csv', '.gz')``."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        return (suffixes[-2] if len(suffixes) > 1 else ""), suffixes[-1]
    return (suffixes[-1] if suffixes else ""), ""


def is_table_file(path: str | Path) -> bool:
    """Whether ``path``'s name is one :func:`read_table` reads (a ``--data`` path's routing)."""
    own, compression = table_suffix(path)
    return own in TEXT_SUFFIXES if compression else own in SUFFIXES


def _raw_bytes(path: Path, compression: str) -> bytes:
    try:
        if compression == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise GankitError(f"'{path}' must hold one table file, it holds {len(names)} files")
                return archive.read(names[0])
        if compression:
            with COMPRESSIONS[compression](path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise GankitError(f"cannot decompress '{path}' as {compression} ({exc})") from None


def _decode(path: Path, raw: bytes, encoding: str) -> tuple[str, str]:
    """The text and the encoding it was read with."""
    if not encoding:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            try:
                return raw.decode("utf-8-sig"), "UTF-8"  # a BOM (Excel) is not part of a name
            except UnicodeDecodeError as exc:
                raise GankitError(f"'{path}' is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                                  f"byte {exc.start}); name its encoding, e.g. --set data.encoding=latin-1, "
                                  "or save it as UTF-8") from None
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        raise GankitError(f"'{path}' is not {encoding} text (byte 0x{exc.object[exc.start]:02x} at byte "
                          f"{exc.start}); name its encoding with --set data.encoding=...") from None


def sniff(text: str, default: str = ",") -> str:
    """The separator that splits every one of the first lines into the same number of fields,
    the most fields winning (``default`` on a tie, or when none does)."""
    head = "\n".join(text.splitlines()[:SNIFF_LINES])
    best, best_fields = default, 1
    for sep in (default, *SEPARATORS):
        try:
            counts = {len(row) for row in csv.reader(io.StringIO(head), delimiter=sep) if row}
        except csv.Error:
            continue
        if len(counts) == 1 and (fields := counts.pop()) > best_fields:
            best, best_fields = sep, fields
    return best


def sniff_decimal(text: str, sep: str) -> str:
    """``,`` when the first lines hold numbers written ``3,14`` and none ``3.14``, else ``.``."""
    if sep == ",":
        return "."
    fields = [f.strip() for row in csv.reader(io.StringIO("\n".join(text.splitlines()[1:SNIFF_LINES])),
                                              delimiter=sep) for f in row]
    comma = any(_DECIMAL_COMMA.fullmatch(f) for f in fields)
    point = any(_DECIMAL_POINT.fullmatch(f) for f in fields)
    return "," if comma and not point else "."


def _check_text(path: Path, text: str, sep: str) -> list[str]:
    """The header, after checking every line's field count."""
    name = Dialect(sep).describe().split("-")[0]
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        header = next(reader, None)
        if header is None or not any(field.strip() for field in header):
            raise GankitError(f"'{path}' is empty: the first line must be a header of column names")
        names = [field.strip() for field in header]
        duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
        if duplicates:
            raise GankitError(f"'{path}' repeats the column name(s) {', '.join(map(repr, duplicates))}; "
                              "each column needs its own name")
        if "" in names:
            raise GankitError(f"'{path}': column {names.index('') + 1} of the header has no name")
        for row in reader:
            if row and len(row) != len(names):
                raise GankitError(f"'{path}' line {reader.line_num} has {len(row)} fields, the header has "
                                  f"{len(names)} (read as {name}-separated; another separator: --set "
                                  "data.sep=...); every row needs one value per column (an empty field "
                                  "is a missing value)")
    except csv.Error as exc:
        raise GankitError(f"'{path}' is not a readable {sep!r}-separated file: {exc}") from None
    return names


def read_table(path: str | Path, sep: str = "", decimal: str = "", encoding: str = "",
               na_values: tuple[str, ...] = ()) -> tuple[pd.DataFrame, Dialect]:
    """The table at ``path`` with its header, and how it is written; numbers, booleans and text
    as pandas reads them, but for the missing markers and leading-zero codes (module docstring).
    ``sep``, ``decimal``, ``encoding``: '' to sniff; ``na_values``: more missing markers."""
    path = Path(path)
    if not is_table_file(path):
        raise GankitError(f"a table must be a .csv, .tsv (either may be .gz, .bz2, .xz or .zip), "
                          f".parquet or .npy file, got '{path.name}'")
    if not path.is_file():
        raise GankitError(f"data file '{path}' does not exist")
    if path.stat().st_size == 0:
        raise GankitError(f"'{path}' is empty")
    own, compression = table_suffix(path)
    dialect = Dialect()
    if own == ".npy":
        frame = _read_npy(path)
    elif own == ".parquet":
        frame = _read_parquet(path)
    else:
        text, dialect.encoding = _decode(path, _raw_bytes(path, compression), encoding)
        if not text.strip():
            raise GankitError(f"'{path}' is empty")
        dialect.sep = sep or sniff(text, "\t" if own == ".tsv" else ",")
        dialect.decimal = decimal or sniff_decimal(text, dialect.sep)
        if dialect.sep == dialect.decimal:
            raise GankitError(f"data.sep and data.decimal are both {dialect.sep!r}; set one of them")
        names = _check_text(path, text, dialect.sep)
        frame = _read_text(path, text, dialect, (*NA_STRINGS, *na_values))
        frame.columns = names
    if len(frame) == 0:
        raise GankitError(f"'{path}' has a header but no rows")
    if len(frame) < MIN_ROWS:
        raise GankitError(f"'{path}' has {len(frame)} row(s); a table needs at least {MIN_ROWS} "
                          "(some are held out to score the generator)")
    return frame, dialect


def _read_text(path: Path, text: str, dialect: Dialect, na: tuple[str, ...]) -> pd.DataFrame:
    """pandas' reading of ``text`` with only ``na`` as missing; then the columns read again that
    are numbers but for pandas' other markers, and those that hold leading-zero codes."""
    import pandas as pd

    def read(**options: Any) -> pd.DataFrame:
        try:
            return pd.read_csv(io.StringIO(text, newline=""), sep=dialect.sep, decimal=dialect.decimal,
                               skipinitialspace=True, low_memory=False, keep_default_na=False, **options)
        except (pd.errors.ParserError, ValueError) as exc:
            raise GankitError(f"cannot read '{path}': {str(exc).strip().splitlines()[0]}") from None

    frame = read(na_values=list(na))
    every_na = list({*na, *PANDAS_NA})
    marked = [i for i, name in enumerate(frame.columns) if _is_text(frame[name])
              and frame[name].isin(PANDAS_NA).any()]
    if marked:  # 'NA' among numbers can only mean missing
        again = read(na_values=every_na, usecols=marked)
        for i, name in zip(marked, again.columns):
            values = again[name]
            if values.notna().any() and (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(
                    values) or all(isinstance(v, bool) for v in values.dropna())):
                frame[frame.columns[i]] = values
    whole = [i for i, name in enumerate(frame.columns)
             if pd.api.types.is_integer_dtype(frame[name].dtype) or (
                 pd.api.types.is_float_dtype(frame[name].dtype) and _whole_or_missing(frame[name]))]
    if whole:  # codes: '01234' is not the number 1234
        again = read(na_values=every_na, usecols=whole, dtype=str)
        for i, name in zip(whole, again.columns):
            if again[name].str.contains(_LEADING_ZERO, na=False).any():
                frame[frame.columns[i]] = again[name].astype(object).where(again[name].notna(), None)
    return frame


def _is_text(series: pd.Series) -> bool:
    import pandas as pd

    return series.dtype == object or isinstance(series.dtype, pd.StringDtype)


def _whole_or_missing(series: pd.Series) -> bool:
    values = series.to_numpy(dtype=np.float64)
    values = values[~np.isnan(values)]
    return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))


def _read_parquet(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise GankitError(f"reading '{path.name}' needs pyarrow: pip install 'gankit[parquet]'") from None
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise GankitError(f"cannot read '{path}' as Parquet: {str(exc).splitlines()[0]}") from None
    for name in frame.columns:  # pandas' categoricals as their values
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(object)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _read_npy(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise GankitError(f"'{path}' is not a readable .npy array of numbers: {exc}") from None
    if array.ndim != 2 or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise GankitError(f"'{path}' must hold a 2-D array of numbers (rows x columns), got "
                          f"shape {array.shape} of {array.dtype}")
    return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
