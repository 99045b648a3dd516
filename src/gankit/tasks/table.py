"""The user's own table: a CSV, TSV or 2-D .npy file in, generated rows of the same table out.

A seeded share of the rows (``data.holdout``, 20% by default, drawn with ``data.split_seed``)
is held out: the networks never see it, and every metric compares generated rows with it. The
run's config records the file's fingerprint (:func:`gankit.tasks.table_io.fingerprint`) and a
hash of the held-out rows' indices (``split_hash``); a changed file, or a split that came out
differently, is refused when the run is evaluated or sampled later. The split does not depend
on the run's ``--seed``, so runs with different seeds are scored on the same rows.

Columns, missing values and ranges: see :mod:`gankit.tasks.table_codec`.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gankit.core.errors import GankitError, did_you_mean
from gankit.tasks.base import RowSampler, Sampler, Task
from gankit.tasks.table_data import TableData
from gankit.tasks.table_figures import draw_projection, table_figures
from gankit.tasks.table_io import SUFFIXES, fingerprint, read_table
from gankit.tasks.table_metrics import table_metrics
from gankit.tasks.table_write import check_table_output, write_frames

if TYPE_CHECKING:  # pandas and the codec load when a table is read, not with every task
    import pandas as pd

_READ: dict[tuple[Any, ...], tuple[pd.DataFrame, str]] = {}  # one read per file version and process
_TOLD: set[tuple[Any, ...]] = set()  # the decisions on a table are printed once per process


def _column_list(key: str, value: Any) -> tuple[str, ...]:
    """``["a", "b"]``, ``"a,b"`` or ``"[a,b]"`` (what --set leaves of an unquoted list) as names."""
    if isinstance(value, str):
        text = value.strip().removeprefix("[").removesuffix("]")
        return tuple(part.strip().strip("'\"") for part in text.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise GankitError(f"data.{key} must be a list of column names, e.g. data.{key}=[\"a\",\"b\"], "
                      f"got {value!r}")


def _read(path: Path) -> tuple[pd.DataFrame, str]:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _READ:
        _READ.clear()  # one table at a time: a long session must not keep every file read
        _READ[key] = (read_table(path), fingerprint(path))
    return _READ[key]


@dataclass
class Table(Task):
    """Rows of a table file; ``path`` is set by ``--data FILE``."""

    path: str = ""
    holdout: float = 0.2  # share of rows held out for scoring, never trained on
    split_seed: int = 0  # seed of the held-out split (not the run's seed: runs share their rows)
    categorical: tuple[str, ...] = ()  # columns to treat as categories whatever they hold
    discrete: tuple[str, ...] = ()  # number columns to decode as whole numbers
    drop: tuple[str, ...] = ()  # columns left out entirely
    target: str = ""  # a column to predict for ml_efficacy; none by default
    normalise: str = "quantile"  # numbers: 'quantile' (to a normal law) or 'standard' (z-scores)
    fingerprint: str = ""  # the file's, recorded by the run; a different file is refused
    split_hash: str = ""  # the held-out rows' indices, hashed: recorded, and checked on reopening

    name = "table"
    preset = "table"
    eval_samples = 2000  # the table metrics subsample to this many rows anyway
    sample_chunk_rows = 50_000  # rows decoded and written at once: memory bounded by one chunk

    def __post_init__(self) -> None:
        if not self.path:
            raise GankitError("the table dataset reads a file: use --data FILE.csv (or .tsv, .npy)")
        self.categorical = _column_list("categorical", self.categorical)
        self.discrete = _column_list("discrete", self.discrete)
        self.drop = _column_list("drop", self.drop)
        if not 0 < self.holdout <= 0.5:
            raise GankitError(f"data.holdout must be in (0, 0.5], got {self.holdout}")
        path = Path(self.path).expanduser().resolve()
        self.path = str(path)
        frame, found = _read(path)
        if self.fingerprint and self.fingerprint != found:
            raise GankitError(f"'{path}' changed since this run was configured (fingerprint {found}, "
                              f"the run's {self.fingerprint}): its held-out rows would be other rows; "
                              "train a new run on the new file")
        self.fingerprint = found
        columns = [str(c) for c in frame.columns]
        for name in self.drop:
            if name not in columns:
                raise GankitError(f"data.drop names column '{name}', which the table does not have"
                                  f"{did_you_mean(name, columns)}")
        frame = frame.drop(columns=list(self.drop))
        if frame.shape[1] == 0:
            raise GankitError("data.drop leaves no column to learn")
        held = max(2, round(self.holdout * len(frame)))
        order = np.random.default_rng(self.split_seed).permutation(len(frame))
        self.holdout_index = np.sort(order[:held])
        self.train_index = np.sort(order[held:])
        split = hashlib.sha256(self.holdout_index.astype("<i8").tobytes()).hexdigest()[:16]
        if self.split_hash and self.split_hash != split:
            raise GankitError(f"the held-out rows of '{path}' are not the ones this run recorded "
                              f"(split {split}, the run's {self.split_hash}); a numpy with another "
                              "permutation algorithm? Train a new run")
        self.split_hash = split
        train = frame.iloc[self.train_index].reset_index(drop=True)
        from gankit.tasks.table_codec import TableCodec

        self.codec = TableCodec.fit(frame, train, self.categorical, self.discrete, self.normalise)
        if self.codec.width == 0:
            raise GankitError(f"'{path}': every column holds one value or none; there is nothing to learn")
        if self.target:
            modelled = [c.name for c in self.codec.modelled]
            if self.target not in modelled:
                raise GankitError(f"data.target '{self.target}' is not a learned column of the table"
                                  f"{did_you_mean(self.target, modelled)}; learned: {', '.join(modelled)}")
        self.train_frame = train
        self.holdout_frame = frame.iloc[self.holdout_index].reset_index(drop=True)
        self.data = TableData(self.codec, self.codec.encode(train), self.codec.encode(self.holdout_frame),
                              self.target)
        self.train_rows = torch.from_numpy(self.data.train_rows)  # no copy: one array for both
        self.holdout_rows = self.data.holdout_rows
        self._head_groups = _span_groups(self.codec.spans())
        told = (self.path, self.fingerprint, self.holdout, self.split_seed, self.categorical,
                self.discrete, self.drop, self.normalise)
        if told not in _TOLD:
            _TOLD.add(told)
            print(self.describe(), file=sys.stderr)

    @classmethod
    def accepts(cls, source: str) -> bool:
        return Path(source).suffix.lower() in SUFFIXES

    def describe(self) -> str:
        """The decisions taken on the table, with counts (printed when it is first read)."""
        name = Path(self.path).name
        parts = [f"table {name}: {len(self.train_index) + len(self.holdout_index)} rows, "
                 f"{len(self.holdout_index)} held out (data.holdout {self.holdout}, seed "
                 f"{self.split_seed}), no row dropped", *self.codec.describe()]
        if self.drop:
            parts.append(f"dropped by data.drop: {', '.join(self.drop)}")
        return "\n  ".join(parts)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.codec.width,)

    @property
    def figure_points(self) -> int:  # type: ignore[override]
        """Rows per snapshot: fewer for wide tables, so snapshots.jsonl stays small."""
        return int(max(16, min(200, 20000 // self.codec.width)))

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` training rows drawn with replacement."""
        pick = torch.randint(len(self.train_rows), (n,), generator=generator, device=generator.device)
        return self.train_rows[pick.cpu()].to(generator.device)

    def sampler(self, generator: torch.Generator) -> Sampler:
        return RowSampler(self.train_rows.to(generator.device), generator)

    def output_head(self, x: torch.Tensor) -> torch.Tensor:
        """Each categorical span (categories, and missing indicators) as an exact one-hot of its
        largest output, with the gradient of a softmax (straight-through); numbers pass as they
        are. With a plain softmax D tells soft fakes from one-hot real rows at a glance: on a
        mixed table it lost 0.09 of quality_score (docs/BENCHMARKS.md, section 13)."""
        if not self._head_groups:
            return x
        out = x.clone()
        for index in self._head_groups:
            soft = torch.softmax(x[..., index.to(x.device)], dim=-1)
            hard = torch.nn.functional.one_hot(soft.argmax(dim=-1), soft.shape[-1]).to(soft.dtype)
            out[..., index.to(x.device)] = hard - soft.detach() + soft
        return out

    def encode(self, data: Any) -> torch.Tensor:
        """Rows of the table (a DataFrame with its columns) -> encoded rows."""
        import pandas as pd

        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data,
                                                                          columns=self.train_frame.columns)
        return torch.from_numpy(self.codec.encode(frame))

    def decode(self, x: torch.Tensor | np.ndarray) -> pd.DataFrame:
        array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        return self.codec.decode(array.reshape(len(array), -1))

    def harden(self, x: np.ndarray) -> np.ndarray:
        """Generated rows as the user gets them, encoded again: one-hot categories, numbers
        clipped and rounded. Metrics score these, not G's soft outputs."""
        return self.data.harden(x)

    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        return table_metrics(self.data, fake)

    def success(self, metrics: dict[str, float]) -> bool:
        """Quality within 0.05 of what held-out real rows score against the training rows."""
        return metrics.get("quality_score", 0.0) >= metrics.get("quality_score_floor", 1.0) - 0.05

    def draw_samples(self, ax: Any, real: np.ndarray, fake: np.ndarray) -> None:
        draw_projection(ax, self.data, np.asarray(real), np.asarray(fake))

    def extra_figures(self, fake: np.ndarray, figures_dir: Any,
                      metrics: dict[str, Any] | None = None) -> list[Any]:
        return table_figures(self.data, np.asarray(fake), Path(figures_dir), metrics)

    @classmethod
    def check_output(cls, out: Path, folder_form: bool) -> None:
        """Refuse an ``out`` that is not a .csv or .tsv file in an existing folder, before any row
        is generated; ``folder_form``: the user named a folder (``DIR/`` or an existing one)."""
        check_table_output(out, folder_form)

    def write_samples(self, chunks: Iterable[pd.DataFrame], out: Path) -> str:
        """Write decoded rows (each chunk as :meth:`decode` returns it) to ``out`` with the
        table's header, atomically; returns the line to print."""
        columns = [c.name for c in self.codec.columns]
        n = write_frames(chunks, out, columns)
        return f"wrote {n} rows of {len(columns)} columns to {out}"


def _span_groups(spans: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Spans of equal width gathered into one ``[spans, width]`` index: one softmax call per
    width instead of one per column, which matters for wide tables."""
    by_width: dict[int, list[list[int]]] = {}
    for start, end in spans:
        by_width.setdefault(end - start, []).append(list(range(start, end)))
    return [torch.tensor(rows, dtype=torch.long) for rows in by_width.values()]
