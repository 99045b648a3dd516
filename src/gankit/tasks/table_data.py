"""What the table metrics and figures read of a table run: the fitted codec, the encoded training
and held-out rows, and a cache of arrays derived from them.

:class:`gankit.tasks.table.Table` builds one :class:`TableData` when it reads its file and hands
it to :mod:`gankit.tasks.table_metrics` and :mod:`gankit.tasks.table_figures`, which therefore
depend on this module only, never on the task (nor on each other's private names).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from gankit.tasks.table_codec import TableCodec

MAX_ROWS = 2000  # rows of each sample the metrics and figures use: an evaluation stays ~1 s
T = TypeVar("T")


def subsample(rows: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """At most ``n`` of ``rows``, drawn without replacement with ``seed`` and kept in their
    order; all of them (the array itself) when there are no more than ``n``."""
    if len(rows) <= n:
        return rows
    return rows[np.sort(np.random.default_rng(seed).choice(len(rows), n, replace=False))]


def shuffled(rows: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """At most ``n`` of ``rows`` in a seeded random order, without replacement: the first
    ``n`` of a permutation drawn with ``seed``. Unlike :func:`subsample` it never keeps the
    file's order, so a sample cut in two gives two halves of the same law even when the file
    is sorted (by a category, say); the held-out rows are kept in file order."""
    return rows[np.random.default_rng(seed).permutation(len(rows))[:n]]


@dataclass
class TableData:
    """A table as the networks see it, and as its metrics and figures compare with.

    ``train_rows`` and ``holdout_rows`` are encoded by ``codec`` (``[rows, codec.width]``,
    float32), possibly in the file's order (a sorted file's rows stay sorted); the held-out rows
    are never trained on, and the metrics take them in a seeded random order (:func:`shuffled`).
    ``target`` names the column ml_efficacy predicts ("" for none).

    ``cache`` holds arrays derived from these rows, computed once per table since the rows do not
    change: ``"pca"`` (the projection of the figures), ``"references"`` (the metrics' fixed
    subsamples) and ``"floors"`` (the metrics' values for real rows). Read and fill it through
    :meth:`cached`; clear it if the rows are ever replaced.
    """

    codec: TableCodec
    train_rows: np.ndarray
    holdout_rows: np.ndarray
    target: str = ""
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def cached(self, key: str, make: Callable[[], T]) -> T:
        """``cache[key]``, made by ``make()`` the first time it is asked for."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def harden(self, rows: np.ndarray) -> np.ndarray:
        """Encoded rows as a user gets them, encoded again (see :meth:`TableCodec.harden`)."""
        return self.codec.harden(np.asarray(rows))
