"""Writing generated rows of a table to a CSV or TSV file, chunk by chunk: memory stays bounded by
one chunk whatever the number of rows, and the file appears only when complete."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gankit.core.atomic import atomic_file
from gankit.core.errors import GankitError

if TYPE_CHECKING:  # pandas loads with the table, not with every task
    import pandas as pd

    from gankit.tasks.table_io import Dialect

TABLE_SUFFIXES = (".csv", ".tsv")


def check_table_output(out: Path, folder_form: bool) -> None:
    """Refuse, before any row is generated, an ``out`` that is not a .csv or .tsv file in an
    existing folder; ``folder_form``: the user named a folder (``DIR/`` or an existing one)."""
    if folder_form or out.suffix.lower() not in TABLE_SUFFIXES:
        raise GankitError(f"a table run writes .csv or .tsv files, got '{out.name}'")
    if not out.parent.is_dir():
        raise GankitError(f"cannot write '{out}': folder '{out.parent}' does not exist")


def write_frames(chunks: Iterable[pd.DataFrame], out: Path, columns: Sequence[str],
                 dialect: Dialect | None = None) -> int:
    """Write ``chunks`` to ``out`` (.csv or .tsv by its suffix) under one header, through a
    temporary file renamed at the end (:func:`gankit.core.atomic.atomic_file`); returns the
    number of rows written. Every chunk must have exactly ``columns``, in that order: a chunk of
    another table would write a corrupt file. ``dialect``: the table file's, whose separator (in
    a .csv file) and decimal mark the rows are written with; UTF-8 whatever the file's encoding."""
    check_table_output(out, folder_form=False)
    sep, decimal = _separators(out, dialect)
    rows = 0
    try:
        with atomic_file(out, "w", encoding="utf-8", newline="") as handle:
            for k, frame in enumerate(chunks):
                if [str(c) for c in frame.columns] != list(columns):
                    raise ValueError(f"chunk {k}'s columns are not the table's, in its order")
                frame.to_csv(handle, sep=sep, decimal=decimal, index=False, header=k == 0)
                rows += len(frame)
    except OSError as exc:  # a folder we may not write in: refused before any row is generated
        raise GankitError(f"cannot write '{out}': {exc.strerror or exc}") from None
    return rows


def _separators(out: Path, dialect: Dialect | None) -> tuple[str, str]:
    """The separator and decimal mark of an output file: a .tsv's is a tab; a .csv's the table
    file's unless that was a tab (then ',', or ';' under a decimal comma)."""
    decimal = dialect.decimal if dialect is not None else "."
    if out.suffix.lower() == ".tsv":
        return "\t", decimal
    sep = dialect.sep if dialect is not None and dialect.sep != "\t" else ","
    return (";" if sep == decimal else sep), decimal
