"""Reading a user's table (CSV, TSV or a 2-D .npy array) into a pandas DataFrame, refusing
what cannot be read faithfully with one line that names the problem.

A first pass with the ``csv`` module checks what pandas would silently repair: duplicate column
names (pandas renames them ``a.1``), rows with fewer fields than the header (pandas pads them
with missing values) and bytes that are not UTF-8, each reported with its line number.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gankit.core.errors import GankitError

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".csv", ".tsv", ".npy")
MIN_ROWS = 10  # a held-out share and a training share both need a few rows


def fingerprint(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256: a run records it, so that evaluating or
    sampling later refuses a file that changed (its held-out rows would be other rows)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _check_text(path: Path, sep: str) -> list[str]:
    """The header, after checking every line's field count and encoding."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:  # a BOM (Excel) is not a name
            reader = csv.reader(handle, delimiter=sep)
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
                    raise GankitError(f"'{path}' line {reader.line_num} has {len(row)} fields, the "
                                      f"header has {len(names)}; every row needs one value per column "
                                      "(an empty field is a missing value)")
    except UnicodeDecodeError as exc:
        raise GankitError(f"'{path}' is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at byte "
                          f"{exc.start}); save it as UTF-8") from None
    except csv.Error as exc:
        raise GankitError(f"'{path}' is not a readable {sep!r}-separated file: {exc}") from None
    return names


def read_table(path: str | Path) -> pd.DataFrame:
    """The table at ``path`` with its header; numbers, booleans and text as pandas reads them."""
    import pandas as pd  # here, not at import: only table runs pay for pandas

    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise GankitError(f"a table must be a .csv, .tsv or .npy file, got '{path.name}'")
    if not path.is_file():
        raise GankitError(f"data file '{path}' does not exist")
    if path.stat().st_size == 0:
        raise GankitError(f"'{path}' is empty")
    if path.suffix.lower() == ".npy":
        frame = _read_npy(path)
    else:
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        names = _check_text(path, sep)
        try:
            frame = pd.read_csv(path, sep=sep, encoding="utf-8-sig", skipinitialspace=True, low_memory=False)
        except (pd.errors.ParserError, ValueError) as exc:
            raise GankitError(f"cannot read '{path}': {str(exc).strip().splitlines()[0]}") from None
        frame.columns = names
    if len(frame) == 0:
        raise GankitError(f"'{path}' has a header but no rows")
    if len(frame) < MIN_ROWS:
        raise GankitError(f"'{path}' has {len(frame)} row(s); a table needs at least {MIN_ROWS} "
                          "(some are held out to score the generator)")
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
