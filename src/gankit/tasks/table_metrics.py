"""Metrics of generated table rows against the held-out rows, never the training rows.

``column_shapes``, ``column_pair_trends`` and ``quality_score`` are SDMetrics' QualityReport
(sdmetrics 0.32, ``reports/single_table``), computed here from its definitions on the rows as a
user gets them (each column given the sdtype of its kind: numeric and integer columns are
numerical, categorical ones categorical, booleans boolean), to within 0.005 of the report on the
same rows (benchmarks/sdmetrics_agreement.py):

- ``column_shapes``: mean over columns of 1 - KS statistic (numbers) or 1 - total variation
  distance (categories, booleans), each on the column's present values only (missing values
  are dropped, not a category); a column with no present value in either sample has no score
  and is left out; a constant column (copied as it is) scores 1.
- ``column_pair_trends``: mean over the column pairs the report counts, those strongly
  associated in the real rows: two number columns by 1 - |r_real - r_fake| / 2 (Pearson on the
  rows where both are present) where |r_real| > 0.5 (neither column constant in either
  sample); any other pair by 1 - TV distance of the two contingency tables (missing values
  a category of their own) where Cramer's V of the real table is > 0.3. A number column in such a
  pair is cut into 10 equal bins over each sample's own range (numpy's ``histogram_bin_edges``
  and ``digitize``: each sample its own edges, the largest value sharing the last code with the
  missing values). NaN when no pair counts. On tables of more than 45 modelled columns,
  ``MAX_PAIRS`` pairs drawn with a fixed seed (the report takes them all).
- ``quality_score``: the mean of the two (``column_shapes`` alone when no pair counts).
- ``detection_auc``: ROC AUC of a logistic regression telling held-out rows from generated
  ones, on the encoded rows, 3-fold stratified cross-validation on equal numbers of each (0.5:
  indistinguishable), with ``detection_auc_std``, its spread over the folds, and
  ``detection_score``, SDMetrics' ``1 - (max(AUC, 0.5) * 2 - 1)`` averaged over folds (1:
  indistinguishable, 0: told apart). An AUC below 0.5 is noise of a small held-out set (see
  :func:`detection_auc`).
- ``detection_auc_svc``: the same with SDMetrics' SVCDetection's classifier and features (an
  RBF support-vector machine on robust-scaled numbers, missing numbers replaced by the real
  sample's mean, and one-hot categories), on at most ``SVC_ROWS`` rows of each class. It tells
  generated rows apart much more easily than the logistic regression.
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
    from gankit.tasks.table_codec import Column, TableCodec

MAX_PAIRS = 1000
BINS = 10  # SDMetrics' bins of a number column in a pair with a category (histogram_bin_edges' default)
REAL_CORRELATION_THRESHOLD = 0.5  # the QualityReport's: pairs of numbers with |r_real| above it count
REAL_ASSOCIATION_THRESHOLD = 0.3  # other pairs whose real Cramer's V is above it count
KS_DECIMALS = 14  # SDMetrics' KSComplement rounds values to this many decimals first
SEED = 0
DETECTION_FOLDS = 3  # as SDMetrics' detection metrics
SVC_ROWS = 1000  # rows of each class the SVC detector takes at most: ~1 s on one core


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


def _missing(column: Column, view: np.ndarray) -> np.ndarray:
    """Which values of a column's view are missing: NaN, or the missing category (coded last)."""
    return view == len(column.categories) if column.categorical else np.isnan(view)


def column_shapes(codec: TableCodec, real: list[np.ndarray], fake: list[np.ndarray]) -> float:
    """SDMetrics' Column Shapes: the mean over columns of KSComplement (numbers) or TVComplement
    (categories, booleans), each on present values only; a column without any present value in
    one of the samples has no score; a constant column, copied as it is, scores 1."""
    scores = [1.0 for c in codec.columns if c.kind == "constant" and c.categories]
    for column, r, f in zip(codec.modelled, real, fake):
        r, f = r[~_missing(column, r)], f[~_missing(column, f)]
        if len(r) == 0 or len(f) == 0:
            continue  # SDMetrics: NaN, left out of the mean
        if column.categorical:
            scores.append(1 - _tv(r, f, column.width))
        else:
            scores.append(1 - _ks(np.round(r, KS_DECIMALS), np.round(f, KS_DECIMALS)))
    return float(np.mean(scores)) if scores else float("nan")


def _binned(values: np.ndarray) -> np.ndarray:
    """A number column as the QualityReport cuts it for a pair with a category: BINS equal bins
    over this sample's own present values (``np.digitize`` on ``np.histogram_bin_edges``: codes
    1 to BINS, the largest value in BINS + 1 with the missing values)."""
    return np.digitize(values, np.histogram_bin_edges(values[~np.isnan(values)], bins=BINS))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r on the rows where both are present; NaN with fewer than 2 or no spread."""
    both = ~(np.isnan(a) | np.isnan(b))
    a, b = a[both], b[both]
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramer's V of two code columns (chi-squared without continuity correction, as scipy's
    ``association(method="cramer")``); NaN when either has a single value."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)
    if min(table.shape) < 2:
        return float("nan")
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / table.sum() / (min(table.shape) - 1)))


def _distinct(values: np.ndarray) -> int:
    return len(np.unique(values[~np.isnan(values)]))


def pair_score(kinds: tuple[bool, bool], real: tuple[np.ndarray, np.ndarray],
               fake: tuple[np.ndarray, np.ndarray]) -> float:
    """One pair's score as the QualityReport counts it, NaN when it does not count. ``kinds``:
    whether each column is categorical; numbers are NaN where missing, category codes have
    the missing category as a code of its own."""
    if not any(kinds):  # two numbers: CorrelationSimilarity
        if any(_distinct(v) == 1 for v in (*real, *fake)):
            return float("nan")  # SDMetrics: "correlation is undefined for constant data"
        r = _pearson(*real)
        if not abs(r) > REAL_CORRELATION_THRESHOLD:
            return float("nan")
        return 1 - abs(r - _pearson(*fake)) / 2  # NaN when the fake r is undefined
    (ra, rb), (fa, fb) = ((v if k else _binned(v) for v, k in zip(rows, kinds)) for rows in (real, fake))
    if not cramers_v(ra, rb) > REAL_ASSOCIATION_THRESHOLD:  # ContingencySimilarity, counted or not
        return float("nan")
    size = int(max(rb.max(), fb.max())) + 1
    joint_real, joint_fake = ra.astype(np.int64) * size + rb, fa.astype(np.int64) * size + fb
    return 1 - _tv(joint_real, joint_fake, int(max(joint_real.max(), joint_fake.max())) + 1)


def column_pair_trends(codec: TableCodec, real: list[np.ndarray], fake: list[np.ndarray]) -> float:
    """SDMetrics' Column Pair Trends: the mean of :func:`pair_score` over the pairs that count
    (strongly associated in the real rows); NaN when none does."""
    columns = codec.modelled
    scores = [pair_score((columns[i].categorical, columns[j].categorical), (real[i], real[j]),
                         (fake[i], fake[j])) for i, j in _pairs(len(columns))]
    scores = [s for s in scores if not np.isnan(s)]
    return float(np.mean(scores)) if scores else float("nan")


def quality_score(shapes: float, trends: float) -> float:
    """The QualityReport's overall score: the mean of the two properties, NaN ones left out."""
    present = [v for v in (shapes, trends) if not np.isnan(v)]
    return float(np.mean(present)) if present else float("nan")


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


def _svc_features(codec: TableCodec, rows: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Rows as SDMetrics' detection metrics give them to the classifier: each number as it
    is (missing ones replaced by ``means``, the real sample's column means), each category
    one-hot (the missing category a column of its own)."""
    columns = []
    for k, (column, view) in enumerate(zip(codec.modelled, codec.views(rows))):
        if column.categorical:
            columns.append(np.eye(column.width)[view])
        else:
            columns.append(np.where(np.isnan(view), means[k], view)[:, None])
    return np.concatenate(columns, axis=1) if columns else np.zeros((len(rows), 0))


def detection_svc(codec: TableCodec, real: np.ndarray, fake: np.ndarray) -> float:
    """The mean ROC AUC over ``DETECTION_FOLDS`` stratified folds of SDMetrics' SVCDetection
    classifier (robust scaling fitted on the training folds, then ``SVC(gamma="scale")``, an RBF
    kernel with C = 1) telling generated rows from real ones, on ``n = min(len(real),
    len(fake), SVC_ROWS)`` random rows of each (SDMetrics: every row, however many). Ranked by
    the SVC's decision function, which orders rows as SDMetrics' Platt-scaled probabilities do,
    without their five extra fits. NaN for fewer than ``DETECTION_FOLDS`` rows of either."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import RobustScaler
    from sklearn.svm import SVC
    from threadpoolctl import threadpool_limits

    n = min(len(real), len(fake), SVC_ROWS)
    if n < DETECTION_FOLDS:
        return float("nan")
    real, fake = subsample(real, n, SEED), subsample(fake, n, SEED + 1)
    means = np.array([0.0 if c.categorical or np.isnan(v).all() else np.nanmean(v)
                      for c, v in zip(codec.modelled, codec.views(real))])
    x = np.concatenate([_svc_features(codec, real, means), _svc_features(codec, fake, means)])
    y = np.r_[np.zeros(n), np.ones(n)]
    aucs = []
    with threadpool_limits(1):
        for train, test in StratifiedKFold(DETECTION_FOLDS, shuffle=True, random_state=SEED).split(x, y):
            model = make_pipeline(RobustScaler(), SVC(gamma="scale")).fit(x[train], y[train])
            aucs.append(roc_auc_score(y[test], model.decision_function(x[test])))
    return float(np.mean(aucs))


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
    values = {"column_shapes": shapes, "column_pair_trends": trends,
              "quality_score": quality_score(shapes, trends), **detection(real, fake),
              "detection_auc_svc": detection_svc(codec, real, fake)}
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
