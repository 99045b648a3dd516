"""The user's own table: a CSV or TSV file (compressed or not), a Parquet or a 2-D .npy file in,
generated rows of the same table out (written with the file's separator and decimal mark).

A seeded share of the rows (``data.holdout``, 20% by default, drawn with ``data.split_seed``)
is held out: the networks never see it, and every metric compares generated rows with it. The
run's config records the file's fingerprint (:func:`gankit.tasks.table_io.fingerprint`) and a
hash of the held-out rows' indices (``split_hash``). The split does not depend on the run's
``--seed``, so runs with different seeds are scored on the same rows.

The run folder is the model: when a run starts, the table keeps in it what sampling, decoding
and evaluating need (:meth:`Table.saved_state`: the fitted codec, the encoded held-out rows and
up to ``TRAIN_ROWS_KEPT`` encoded training rows; :mod:`gankit.tasks.saved`), and a run read back
is always built from that (:meth:`Table.from_saved_state`), whether or not the file is still
there. Training and ``--resume`` read the file itself, and refuse it when missing or changed.

Reading (separators, decimal marks, encodings, missing markers): :mod:`gankit.tasks.table_io`.
Columns, missing values and ranges: :mod:`gankit.tasks.table_codec` and
:mod:`gankit.tasks.table_kinds`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gankit.core.console import say
from gankit.core.errors import GankitError, did_you_mean
from gankit.tasks.base import Task, cycled_order
from gankit.tasks.saved import STATE_FILE, check_saved, write_saved
from gankit.tasks.table_asked import span_columns
from gankit.tasks.table_conditions import (
    SpanConditioned,
    conditions_of,
    one_hot_head,
    span_groups,
)
from gankit.tasks.table_data import TableData, subsample
from gankit.tasks.table_figures import draw_projection, table_figures
from gankit.tasks.table_io import Dialect, fingerprint, is_table_file, read_table
from gankit.tasks.table_metrics import table_metrics
from gankit.tasks.table_params import check_reading, column_list
from gankit.tasks.table_write import check_table_output, write_frames

if TYPE_CHECKING:  # pandas and the codec load when a table is read, not with every task
    import pandas as pd

_READ: dict[tuple[Any, ...], tuple[pd.DataFrame, str, Dialect]] = {}  # one read per file version and process
_TOLD: set[tuple[Any, ...]] = set()  # the decisions on a table are printed once per process
# Encoded training rows a run folder keeps (all of them up to this many, else a seeded subsample):
# the metrics and figures read at most 2,000 (table_metrics) and 5,000 (the projection) of them.
TRAIN_ROWS_KEPT = 20_000
# The parameters that decide the rows and their encoding: a saved state is refused for others.
SHAPING = ("holdout", "split_seed", "categorical", "discrete", "drop", "normalise", "fingerprint",
           "split_hash", "sep", "decimal", "encoding", "na_values", "types")


def _read(path: Path, task: Table) -> tuple[pd.DataFrame, str, Dialect]:
    if not path.is_file():
        raise GankitError(f"table file '{path}' does not exist; training and --resume read it (a run "
                          "trained on it samples, evaluates and plots without it)")
    stat = path.stat()
    options = (task.sep, task.decimal, task.encoding, task.na_values)
    key = (str(path), stat.st_mtime_ns, stat.st_size, options)
    if key not in _READ:
        _READ.clear()  # one table at a time: a long session must not keep every file read
        frame, dialect = read_table(path, *options)
        _READ[key] = (frame, fingerprint(path), dialect)
    return _READ[key]


@dataclass
class Table(SpanConditioned, Task):
    """Rows of a table file; ``path`` is set by ``--data FILE``."""

    path: str = ""
    holdout: float = 0.2  # share of rows held out for scoring, never trained on
    split_seed: int = 0  # seed of the held-out split (not the run's seed: runs share their rows)
    categorical: tuple[str, ...] = ()  # columns to treat as categories whatever they hold
    discrete: tuple[str, ...] = ()  # number columns to decode as whole numbers
    drop: tuple[str, ...] = ()  # columns left out entirely
    target: str = ""  # a column to predict for ml_efficacy; none by default
    normalise: str = "quantile"  # numbers: 'quantile' (to a normal law) or 'standard' (z-scores)
    sep: str = ""  # the separator; '' sniffs it (, ; tab |)
    decimal: str = ""  # the decimal mark; '' sniffs it ('.', or ',' in a file not separated by ',')
    encoding: str = ""  # the text's encoding; '' is UTF-8 (a byte-order mark honoured)
    na_values: tuple[str, ...] = ()  # text read as missing, besides table_io.NA_STRINGS
    types: dict[str, str] = field(default_factory=dict)  # column -> kind, over any guess
    # Training-by-sampling over the one-hot spans (gankit.tasks.table_conditions): rarer values
    # made more often, at a cost in quality_score (docs/BENCHMARKS.md, section 18); opt-in.
    balance: bool = False
    match_shares: float = 0.0  # weight of table_conditions.share_gap in G's loss; 0 = off
    condition: tuple[str, ...] = ()  # category or number columns to generate on request (table_asked)
    fingerprint: str = ""  # the file's, recorded by the run; a different file is refused
    split_hash: str = ""  # the held-out rows' indices, hashed: recorded, and checked on reopening

    name = "table"
    preset = "table"
    eval_samples = 2000  # the table metrics subsample to this many rows anyway
    sample_chunk_rows = 50_000  # rows decoded and written at once: memory bounded by one chunk

    def __post_init__(self) -> None:
        self._check_params()
        path = Path(self.path).expanduser().resolve()
        self.path = str(path)
        frame, found, self.dialect = _read(path, self)
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
        _split(self, len(frame))
        train = frame.iloc[self.train_index].reset_index(drop=True)
        from gankit.tasks.table_codec import TableCodec

        self.codec = TableCodec.fit(frame, train, self.categorical, self.discrete, self.normalise, self.types)
        self.train_frame: pd.DataFrame | None = train  # None when built from a saved state
        self.holdout_frame: pd.DataFrame | None = frame.iloc[self.holdout_index].reset_index(drop=True)
        self._saved: dict[str, Any] | None = None  # read from the file: use_run_folder keeps it
        self._set_up(self.codec.encode(train), self.codec.encode(self.holdout_frame))

    def _check_params(self) -> None:
        if not self.path:
            raise GankitError("the table dataset reads a file: use --data FILE.csv (or .tsv, .csv.gz, "
                              ".parquet, .npy)")
        self.categorical = column_list("categorical", self.categorical)
        self.discrete = column_list("discrete", self.discrete)
        self.drop = column_list("drop", self.drop)
        self.condition = column_list("condition", self.condition)
        if not 0 < self.holdout <= 0.5:
            raise GankitError(f"data.holdout must be in (0, 0.5], got {self.holdout}")
        check_reading(self)

    def _set_up(self, train_rows: np.ndarray, holdout_rows: np.ndarray) -> None:
        """What the networks, metrics and figures use, from the fitted codec and encoded rows."""
        if self.codec.width == 0:
            raise GankitError(f"'{self.path}': every column holds one value or none; there is nothing "
                              "to learn")
        if self.target:
            modelled = [c.name for c in self.codec.modelled]
            if self.target not in modelled:
                raise GankitError(f"data.target '{self.target}' is not a learned column of the table"
                                  f"{did_you_mean(self.target, modelled)}; learned: {', '.join(modelled)}")
        self.data = TableData(self.codec, train_rows, holdout_rows, self.target)
        self._conditions = conditions_of(self.codec, self.condition, self.balance, self._saved, train_rows)
        self.train_rows = torch.from_numpy(self.data.train_rows)  # no copy: one array for both
        self.holdout_rows = self.data.holdout_rows
        self._head_groups = span_groups(self.codec.spans())
        self._span_columns = span_columns(self.codec.spans())
        told = (self.path, self.fingerprint, self.holdout, self.split_seed, self.categorical,
                self.discrete, self.drop, self.normalise, self.sep, self.decimal, self.encoding,
                self.na_values, tuple(sorted(self.types.items())))
        if told not in _TOLD:
            _TOLD.add(told)
            say(self.describe())

    def saved_state(self) -> dict[str, Any]:
        """The fitted codec, the encoded held-out rows and training rows (see :func:`_state`)."""
        return self._saved if self._saved is not None else _state(self)

    @classmethod
    def from_saved_state(cls, params: dict[str, Any], state: dict[str, Any]) -> Table:
        """The table of a run folder, from its saved state: the file is not read."""
        return _from_state(cls, params, state)

    def use_run_folder(self, path: Any) -> None:
        """Keep the saved state in the run folder (one that cannot be written needs the file)."""
        if self._saved is None:
            with contextlib.suppress(OSError):
                write_saved(path, self.saved_state())

    @classmethod
    def accepts(cls, source: str) -> bool:
        return is_table_file(source)

    def describe(self) -> str:
        """The decisions taken on the table, with counts (printed when it is first read)."""
        name = Path(self.path).name
        parts = [f"table {name}: {len(self.train_index) + len(self.holdout_index)} rows, "
                 f"{len(self.holdout_index)} held out (data.holdout {self.holdout}, seed "
                 f"{self.split_seed}), no row dropped", *self.codec.describe()]
        if self.dialect.encoding:
            parts.insert(1, f"read as {self.dialect.describe()}")
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

    def calibration_rows(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` held-out rows (never trained on) in a random order, each once before any
        repeats: what refinement calibrates D on, never the training rows :meth:`sample` draws."""
        rows = torch.from_numpy(self.data.holdout_rows)
        return rows[cycled_order(len(rows), n, generator)].to(generator.device)

    @property
    def training_rows(self) -> int:
        return len(self.train_rows)

    def include_held_out(self) -> bool:
        """The held-out rows join the training rows (the metrics, still on them, are labelled)."""
        self.train_rows = torch.from_numpy(np.concatenate([self.data.train_rows, self.data.holdout_rows]))
        return True

    def output_head(self, x: torch.Tensor) -> torch.Tensor:
        return one_hot_head(x, self._head_groups)

    def encode(self, data: Any) -> torch.Tensor:
        """Rows of the table (a DataFrame with its columns) -> encoded rows."""
        import pandas as pd

        columns = [c.name for c in self.codec.columns]
        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data, columns=columns)
        return torch.from_numpy(self.codec.encode(frame))

    def decode(self, x: torch.Tensor | np.ndarray) -> pd.DataFrame:
        array = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
        return self.codec.decode(array.reshape(len(array), -1), self.imposed_numbers)

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
        n = write_frames(_fresh_ids(self.codec, chunks), out, columns, self.dialect)
        return f"wrote {n} rows of {len(columns)} columns to {out}"


def _split(task: Table, rows: int) -> None:
    """The held-out and training rows' indices among the file's ``rows`` rows, checked against
    the run's ``split_hash`` when it has one."""
    held = max(2, round(task.holdout * rows))
    order = np.random.default_rng(task.split_seed).permutation(rows)
    task.holdout_index = np.sort(order[:held])
    task.train_index = np.sort(order[held:])
    split = hashlib.sha256(task.holdout_index.astype("<i8").tobytes()).hexdigest()[:16]
    if task.split_hash and task.split_hash != split:
        raise GankitError(f"the held-out rows of '{task.path}' are not the ones this run recorded "
                          f"(split {split}, the run's {task.split_hash}); a numpy with another "
                          "permutation algorithm? Train a new run")
    task.split_hash = split


def _state(task: Table) -> dict[str, Any]:
    """A table's saved state: the fitted codec (column names, order, types, categories,
    quantiles, decimals, ranges, missing indicators), the encoded held-out rows and the encoded
    training rows (at most ``TRAIN_ROWS_KEPT``, a seeded subsample beyond), with the parameters
    they were made with."""
    return {"task": task.name, "params": {key: getattr(task, key) for key in SHAPING},
            "rows": len(task.train_index) + len(task.holdout_index),
            "dialect": dataclasses.asdict(task.dialect),
            "codec": task.codec.to_dict(), "holdout_rows": task.data.holdout_rows,
            "train_rows": subsample(task.data.train_rows, TRAIN_ROWS_KEPT, 0),
            **({} if task._conditions is None else task._conditions.saved())}


def _from_state(cls: type[Table], params: dict[str, Any], state: dict[str, Any]) -> Table:
    from gankit.tasks.table_codec import TableCodec

    task = cls.__new__(cls)
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
        setattr(task, f.name, params.get(f.name, default))
    task._check_params()
    kept = state.get("params", {})
    for key in ("fingerprint", "split_hash"):  # a config without them takes the state's
        setattr(task, key, getattr(task, key) or kept.get(key, ""))
    check_saved(state, cls.name, {key: getattr(task, key) for key in SHAPING})
    try:
        task.codec = TableCodec.from_dict(state["codec"])
        rows = int(state["rows"])
        train, held = (np.asarray(state[key], dtype=np.float32) for key in ("train_rows", "holdout_rows"))
    except (KeyError, TypeError, ValueError) as exc:
        raise GankitError(f"the run folder's saved table ({STATE_FILE}) is incomplete or malformed "
                          f"({type(exc).__name__}: {exc})") from None
    if any(a.ndim != 2 or a.shape[1] != task.codec.width for a in (train, held)):
        raise GankitError(f"the run folder's saved table ({STATE_FILE}) holds rows of shape "
                          f"{train.shape[1:]}, its columns encode {task.codec.width} values")
    _split(task, rows)
    task.train_frame = task.holdout_frame = None
    task.dialect = Dialect(**state.get("dialect", {"encoding": ""}))
    task._saved = state
    task._set_up(train, held)
    return task


def _fresh_ids(codec: Any, chunks: Iterable[pd.DataFrame]) -> Iterable[pd.DataFrame]:
    """Decoded chunks whose ID columns go on from the previous chunk's: IDs unique in the file."""
    offset = 0
    for chunk in chunks:
        yield codec.fresh_ids(chunk, offset)
        offset += len(chunk)
