"""Metrics of generated table rows against the held-out rows, never the training rows.

- ``column_shapes``: mean over columns of 1 - KS statistic (numbers) or 1 - total variation
  distance (categories, the missing value being one), as SDMetrics' quality report defines them.
- ``column_pair_trends``: mean over column pairs of 1 - |corr_real - corr_fake| / 2 (Pearson,
  two number columns) or 1 - TV distance of the contingency tables (other pairs; numbers cut
  into ``BINS`` equal bins over the held-out range, as SDMetrics does); at most ``MAX_PAIRS``
  pairs, drawn with a fixed seed on wide tables.
- ``quality_score``: the mean of the two.
- ``detection_auc``: ROC AUC of a logistic regression telling held-out rows from generated
  ones, 3-fold stratified cross-validation on equal numbers of each (0.5: indistinguishable),
  with ``detection_auc_std``, its spread over the folds, and ``detection_score``, SDMetrics'
  ``1 - (max(AUC, 0.5) * 2 - 1)`` averaged over folds (1: indistinguishable, 0: told apart). An
  AUC below 0.5 is noise of a small held-out set (see :func:`detection_auc`).
- ``ml_efficacy`` (with ``data.target``): a model trained on generated rows, scored on the
  held-out rows: macro F1 of a logistic regression (category target) or R^2 of a ridge
  regression (number target).
- ``dcr_share``: the share of generated rows whose nearest training row is nearer than their
  nearest held-out row, with equally many of each (about 0.5 for a generator that does not copy
  rows, near 1 for one that memorises).

Each comes with ``NAME_floor``: its value when training rows stand in for the generated ones
(for ``ml_efficacy``, the model trained on real training rows); for ``dcr_share``, half of the
held-out rows stand in, against the other half and as many training rows (0.5 up to noise). The
held-out rows are taken in a seeded random order, never the file's: a file sorted by a category
would otherwise give a first and a second half of different laws (a dcr_share_floor of 0.9).
Rows are encoded as the networks see them and generated rows first decoded and encoded again,
so the metrics score what a user gets.
At most ``MAX_ROWS`` rows of each sample are used, which keeps an evaluation under a second or
two on one CPU for tables of tens of columns.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from gankit.metrics import with_floors
from gankit.tasks.table_data import MAX_ROWS, TableData, shuffled, subsample

if TYPE_CHECKING:
    from gankit.tasks.table_codec import TableCodec

MAX_PAIRS = 1000
BINS = 10
SEED = 0
DETECTION_FOLDS = 3  # as SDMetrics' detection metrics


def _tv(a: np.ndarray, b: np.ndarray, size: int) -> float:
    p = np.bincount(a, minlength=size) / len(a)
    q = np.bincount(b, minlength=size) / len(b)
    return 0.5 * float(np.abs(p - q).sum())


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    """The two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical
    CDFs, which is reached at one of the pooled points."""
    a, b = np.sort(a), np.sort(b)
    pooled = np.concatenate([a, b])
    gap = (np.searchsorted(a, pooled, side="right") / len(a)
           - np.searchsorted(b, pooled, side="right") / len(b))
    return float(np.abs(gap).max())


def _pairs(count: int) -> list[tuple[int, int]]:
    """Every pair of ``count`` columns, or MAX_PAIRS of them drawn with a fixed seed."""
    if count * (count - 1) // 2 <= MAX_PAIRS:
        return [(i, j) for i in range(count) for j in range(i + 1, count)]
    rng, chosen = np.random.default_rng(SEED), set()
    while len(chosen) < MAX_PAIRS:
        i, j = rng.integers(count, size=2)
        if i != j:
            chosen.add((int(min(i, j)), int(max(i, j))))
    return sorted(chosen)


def column_shapes(codec: TableCodec, real: list[np.ndarray], fake: list[np.ndarray]) -> float:
    scores = []
    for column, r, f in zip(codec.modelled, real, fake):
        if column.categorical:
            scores.append(1 - _tv(r, f, column.width))
            continue
        r, f = r[~np.isnan(r)], f[~np.isnan(f)]
        if len(r) == 0 or len(f) == 0:
            scores.append(float(len(r) == len(f)))  # both all missing: alike; one only: not
        else:
            scores.append(1 - _ks(r, f))
    return float(np.mean(scores))


def _codes(column_values: np.ndarray, categorical: bool, real: np.ndarray) -> tuple[np.ndarray, int]:
    """Category codes as they are; numbers cut into BINS bins over the real values' range,
    missing values in a bin of their own."""
    if categorical:
        return column_values.astype(np.int64), int(max(column_values.max(), real.max())) + 1
    finite = real[~np.isnan(real)]
    low, high = (finite.min(), finite.max()) if len(finite) else (0.0, 1.0)
    scaled = (column_values - low) / ((high - low) or 1.0) * BINS
    codes = np.clip(np.nan_to_num(scaled, nan=0.0), 0, BINS - 1).astype(np.int64)
    return np.where(np.isnan(column_values), BINS, codes), BINS + 1


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    both = ~(np.isnan(a) | np.isnan(b))
    a, b = a[both], b[both]
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return 0.0  # no variation, no linear trend
    return float(np.corrcoef(a, b)[0, 1])


def column_pair_trends(codec: TableCodec, real: list[np.ndarray], fake: list[np.ndarray]) -> float:
    columns = codec.modelled
    pairs = _pairs(len(columns))
    if not pairs:
        return 1.0
    scores = []
    for i, j in pairs:
        if columns[i].numeric and columns[j].numeric:
            scores.append(1 - abs(_correlation(real[i], real[j]) - _correlation(fake[i], fake[j])) / 2)
            continue
        (ri, ki), (rj, kj) = (_codes(real[k], columns[k].categorical, real[k]) for k in (i, j))
        (fi, _), (fj, _) = (_codes(fake[k], columns[k].categorical, real[k]) for k in (i, j))
        ki, kj = max(ki, int(fi.max()) + 1), max(kj, int(fj.max()) + 1)
        scores.append(1 - _tv(ri * kj + rj, fi * kj + fj, ki * kj))
    return float(np.mean(scores))


def detection_folds(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """ROC AUC, fold by fold, of a logistic regression telling ``fake`` rows (class 1) from
    ``real`` ones: ``DETECTION_FOLDS``-fold stratified cross-validation, as SDMetrics'
    LogisticDetection, on balanced classes: ``n = min(len(real), len(fake))`` random rows of
    each (SDMetrics takes all rows of both, however many). NaN for fewer than
    ``DETECTION_FOLDS`` rows of either. BLAS runs on one thread: on these few rows more threads
    only wait on each other (several times slower on a busy machine)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    n = min(len(real), len(fake))
    if n < DETECTION_FOLDS:
        return np.full(DETECTION_FOLDS, np.nan)
    # random rows, not the first ones: rows kept in file order may be sorted (iris is, by species)
    x = np.concatenate([subsample(real, n, SEED), subsample(fake, n, SEED + 1)])
    y = np.r_[np.zeros(n), np.ones(n)]
    folds = StratifiedKFold(DETECTION_FOLDS, shuffle=True, random_state=SEED)
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # convergence warnings on separable data: the AUC is 1 anyway
        return cross_val_score(LogisticRegression(max_iter=300), x, y, cv=folds, scoring="roc_auc")


def detection_score(aucs: np.ndarray) -> float:
    """SDMetrics' detection score of the folds' AUCs: ``1 - mean(max(AUC, 0.5) * 2 - 1)``,
    1 when no fold tells generated from real (any AUC at or below 0.5), 0 when every fold
    tells them apart perfectly. The clipping is per fold, as in SDMetrics."""
    return float(1 - np.mean(np.maximum(np.asarray(aucs, dtype=np.float64), 0.5) * 2 - 1))


def detection_auc(real: np.ndarray, fake: np.ndarray) -> float:
    """The mean over folds of :func:`detection_folds`: 0.5 when the detector does no better
    than chance, 1 when it tells every generated row from the real ones.

    An AUC below 0.5 means no more than 0.5: a detector cannot do worse than chance except by
    noise, and with a small held-out set the noise is large: a perfect generator (fresh rows of
    the table's law) scatters by about 0.08 around 0.5 with 69 held-out rows, 23 + 23 rows per
    test fold (benchmarks/own_data_floors.py). ``detection_score`` clips it, as SDMetrics does.
    An AUC below 0.5 by more than twice ``detection_auc_std`` (its spread over folds) is worth
    a look for a fault, such as the same rows in both classes: a row that is real in a test
    fold and generated in the training folds is predicted generated, which pulls the AUC below
    0.5.
    """
    return float(np.mean(detection_folds(real, fake)))


def detection(real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """``detection_auc`` (the mean AUC over folds, :func:`detection_auc`), ``detection_auc_std``
    (its standard deviation over the folds) and ``detection_score`` (:func:`detection_score`)."""
    aucs = detection_folds(real, fake)
    return {"detection_auc": float(np.mean(aucs)), "detection_auc_std": float(np.std(aucs)),
            "detection_score": detection_score(aucs)}


def ml_efficacy(data: TableData, train: np.ndarray, test: np.ndarray) -> float:
    """Train on ``train`` (encoded rows), score on ``test`` (the held-out rows), predicting
    ``data.target``."""
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import f1_score, r2_score
    from threadpoolctl import threadpool_limits

    column = next(c for c in data.codec.modelled if c.name == data.target)
    features = np.ones(train.shape[1], dtype=bool)
    features[column.start:column.start + column.width] = False
    index = data.codec.modelled.index(column)
    y_train, y_test = data.codec.views(train)[index], data.codec.views(test)[index]
    if column.categorical:
        if len(np.unique(y_train)) < 2:
            return 0.0  # one class generated: nothing to learn a boundary from
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            model = LogisticRegression(max_iter=500).fit(train[:, features], y_train)
        return float(f1_score(y_test, model.predict(test[:, features]), average="macro"))
    keep_train, keep_test = ~np.isnan(y_train), ~np.isnan(y_test)
    model = Ridge(alpha=1.0).fit(train[keep_train][:, features], y_train[keep_train])
    return float(r2_score(y_test[keep_test], model.predict(test[keep_test][:, features])))


def dcr_share(candidates: np.ndarray, train: np.ndarray, holdout: np.ndarray) -> float:
    """Share of candidates nearer to ``train`` than to ``holdout`` (ties count half); both
    references are cut to the same size, so that 0.5 is what an independent sample scores."""
    import torch

    m = min(len(train), len(holdout))
    if m == 0 or len(candidates) == 0:
        return float("nan")
    c = torch.as_tensor(candidates, dtype=torch.float64)
    train, holdout = (torch.as_tensor(subsample(rows, m, SEED), dtype=torch.float64)
                      for rows in (train, holdout))
    d_train = torch.cdist(c, train).min(dim=1).values
    d_hold = torch.cdist(c, holdout).min(dim=1).values
    return float(((d_train < d_hold).double() + 0.5 * (d_train == d_hold).double()).mean())


def _scores(data: TableData, real: np.ndarray, fake: np.ndarray, near: np.ndarray) -> dict[str, float]:
    """The metrics of ``fake`` against the held-out rows ``real``; ``near`` are as many training
    rows, the other reference of dcr_share."""
    codec = data.codec
    real_views, fake_views = codec.views(real), codec.views(fake)
    shapes = column_shapes(codec, real_views, fake_views)
    trends = column_pair_trends(codec, real_views, fake_views)
    values = {"column_shapes": shapes, "column_pair_trends": trends, "quality_score": (shapes + trends) / 2,
              **detection(real, fake)}
    if data.target:
        values["ml_efficacy"] = ml_efficacy(data, fake, real)
    values["dcr_share"] = dcr_share(fake, near, real)
    return values


def _references(data: TableData) -> dict[str, np.ndarray]:
    """Fixed samples per table: the held-out rows in a seeded random order (never the file's,
    which may be sorted), training rows, and as many training rows as held-out ones
    (dcr_share's second reference)."""
    def make() -> dict[str, np.ndarray]:
        real = shuffled(data.holdout_rows, MAX_ROWS, SEED)
        return {"real": real, "train": subsample(data.train_rows, MAX_ROWS, SEED + 1),
                "near": subsample(data.train_rows, len(real), SEED + 2)}

    return data.cached("references", make)


def _floors(data: TableData) -> dict[str, float]:
    def make() -> dict[str, float]:
        refs = _references(data)
        floors = _scores(data, refs["real"], refs["train"], refs["near"])
        # dcr_share: half the held-out rows as candidates, the other half and as many training
        # rows as references; none of the three sets overlaps. The held-out rows are in a seeded
        # random order, so the halves are two samples of one law even when the file is sorted.
        half = len(refs["real"]) // 2
        near = subsample(data.train_rows, len(refs["real"]) - half, SEED + 3)
        floors["dcr_share"] = dcr_share(refs["real"][:half], near, refs["real"][half:])
        return floors

    return data.cached("floors", make)


def table_metrics(data: TableData, fake: np.ndarray) -> dict[str, float]:
    """Every table metric of generated rows ``fake`` (G's encoded output), each with its floor;
    ``detection_auc_std``, the spread of detection_auc over folds, follows detection_auc's floor
    and has none of its own."""
    refs = _references(data)
    fake = data.harden(subsample(np.asarray(fake).reshape(len(fake), -1), MAX_ROWS, SEED))
    values = _scores(data, refs["real"], fake, refs["near"])
    spread = values.pop("detection_auc_std")
    floors = {k: v for k, v in _floors(data).items() if k != "detection_auc_std"}
    result = {}
    for key, value in with_floors(values, floors).items():
        result[key] = value
        if key == "detection_auc_floor":
            result["detection_auc_std"] = spread
    return result
