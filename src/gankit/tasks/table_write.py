"""Writing generated rows of a table run to a CSV or TSV file in chunks: memory stays bounded by
one chunk whatever the number of rows, and the file appears only when complete."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from gankit.core.errors import GankitError

CHUNK = 50_000  # rows generated and written at once
TABLE_SUFFIXES = (".csv", ".tsv")


def chunk_seed(seed: int | None, k: int) -> int | None:
    """Chunk ``k``'s noise seed: the seed itself for the first chunk, so that the first rows of
    a file equal ``Run.sample(n, seed)``; a distinct one for each later chunk."""
    return None if seed is None else seed + k * (1 << 32)


def sample_chunks(run: Any, n: int, seed: int | None = None, member: int = 0,
                  chunk: int = CHUNK) -> Iterator[pd.DataFrame]:
    """``n`` decoded rows of one member, ``chunk`` rows at a time."""
    for k, start in enumerate(range(0, n, chunk)):
        yield run.sample(min(chunk, n - start), chunk_seed(seed, k), member)


def write_table(run: Any, n: int, out: Path, seed: int | None = None, member: int = 0,
                chunk: int = CHUNK) -> None:
    """Write ``n`` generated rows with the table's header to ``out`` (.csv or .tsv)."""
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise GankitError(f"a table run writes .csv or .tsv files, got '{out.name}'")
    sep = "\t" if out.suffix.lower() == ".tsv" else ","
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            for k, frame in enumerate(sample_chunks(run, n, seed, member, chunk)):
                frame.to_csv(handle, sep=sep, index=False, header=k == 0)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GankitError(f"cannot write '{out}': {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
