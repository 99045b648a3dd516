"""gankit's ``column_shapes``, ``column_pair_trends`` and ``quality_score`` against SDMetrics'
QualityReport on the same rows, and ``detection_auc_svc`` beside SDMetrics' SVCDetection.

SDMetrics is not a dependency of gankit: run this in a venv made for the benchmark, with gankit's
own venv behind it for torch (its site-packages appended, so the benchmark venv's packages win):

    python3 -m venv bench-out/sdm-venv
    bench-out/sdm-venv/bin/pip install -c constraints.txt sdmetrics==0.32.0
    echo "$PWD/.venv/lib/python3.11/site-packages" \\
        > bench-out/sdm-venv/lib/python3.11/site-packages/gankit-venv.pth
    PYTHONPATH=src bench-out/sdm-venv/bin/python benchmarks/sdmetrics_agreement.py

Tables: scikit-learn's iris and diabetes (unscaled) and a made-up mixed table of 4,000 rows
(numbers with missing values, text categories with a missing one, a boolean, a small integer
set, a constant column), each cut in two halves at random: the training half, which gankit's
codec is fitted on, and the held-out half, the real rows. Each is scored against three kinds of
"generated" rows made from the training half: (a) the real rows themselves (another sample of
the table's law), (b) noisy copies (numbers moved by half a standard deviation, a quarter of
the categories redrawn, some values made missing), (c) every column shuffled on its own (the
columns' laws kept, every association lost). gankit scores them with
:func:`gankit.tasks.table_metrics.table_metrics`; SDMetrics gets the same rows as a user gets
them (``codec.decode`` of the held-out rows and of the hardened generated ones, at most
``MAX_ROWS`` of each, drawn as ``table_metrics`` draws them) with metadata from the codec's
kinds (numeric and integer: numerical; categorical: categorical; boolean: boolean; constant:
categorical). Exits 1 if any |difference| of the three scores is over ``TOLERANCE``.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

from gankit.tasks.table_codec import TableCodec
from gankit.tasks.table_data import MAX_ROWS, TableData, shuffled, subsample
from gankit.tasks.table_metrics import SEED, table_metrics

TOLERANCE = 0.005
SDTYPES = {"numeric": "numerical", "integer": "numerical", "categorical": "categorical",
           "boolean": "boolean", "constant": "categorical", "id": "id"}  # a kind not here: KeyError
KEYS = (("quality_score", "overall"), ("column_shapes", "Column Shapes"),
        ("column_pair_trends", "Column Pair Trends"))


def mixed(rows: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    y = 0.8 * x + 0.6 * rng.normal(size=rows)
    z = np.round(np.exp(rng.normal(size=rows)), 3)
    z[rng.random(rows) < 0.1] = np.nan
    w = np.round(2 * y + 0.5 * rng.normal(size=rows), 2)
    w[rng.random(rows) < 0.05] = np.nan
    city = np.where(x > 0.7, "north", np.where(x < -0.7, "south", rng.choice(["east", "west"], rows)))
    plan = np.where(rng.random(rows) < 0.7, np.where(city == "north", "gold", "basic"),
                    rng.choice(["gold", "basic", "trial"], rows)).astype(object)
    plan[rng.random(rows) < 0.08] = None
    flag = (plan == "gold") ^ (rng.random(rows) < 0.15)
    rating = np.clip(np.round(3 + 1.2 * y + 0.5 * rng.normal(size=rows)), 1, 5).astype(int)
    income = np.round(40_000 + 12_000 * x + 5_000 * rng.normal(size=rows)).astype(int)
    return pd.DataFrame({"x": np.round(x, 4), "y": np.round(y, 4), "z": z, "w": w, "city": city,
                         "plan": plan, "flag": flag, "rating": rating, "income": income,
                         "source": "web"})


def tables() -> dict[str, pd.DataFrame]:
    from sklearn.datasets import load_diabetes, load_iris

    iris = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    diabetes = load_diabetes(as_frame=True, scaled=False).frame
    return {"iris": iris, "diabetes": diabetes, "mixed": mixed()}


def noisy(frame: pd.DataFrame, codec: TableCodec, rng: np.random.Generator) -> pd.DataFrame:
    out = frame.copy()
    for column in codec.modelled:
        values = out[column.name]
        if column.numeric:
            moved = values + 0.5 * values.std() * rng.normal(size=len(values))
            out[column.name] = moved.mask(rng.random(len(values)) < 0.05)
        else:
            present = values.dropna().to_numpy()
            redraw = rng.random(len(values)) < 0.25
            out.loc[redraw, column.name] = rng.choice(present, int(redraw.sum()))
    return out


def column_shuffles(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({name: frame[name].to_numpy()[rng.permutation(len(frame))] for name in frame.columns})


def sdmetrics_scores(codec: TableCodec, real: np.ndarray, fake: np.ndarray) -> dict[str, float]:
    """SDMetrics' single-table QualityReport (deprecated in 0.32, still the one SDV's users
    know), its unified QualityReport (``unified``, the overall score; the two must agree) and
    SVCDetection, on the rows as a user gets them."""
    from sdmetrics.reports import QualityReport as UnifiedReport
    from sdmetrics.single_table import SVCDetection

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the single-table report's deprecation
        from sdmetrics.reports.single_table import QualityReport

        metadata = {"columns": {c.name: {"sdtype": SDTYPES[c.kind]} for c in codec.columns}}
        real_frame, fake_frame = codec.decode(real), codec.decode(fake)
        report = QualityReport()
        report.generate(real_frame, fake_frame, metadata, verbose=False)
        properties = report.get_properties().set_index("Property")["Score"]
        unified = UnifiedReport()
        unified.generate({"t": real_frame}, {"t": fake_frame}, {"tables": {"t": metadata}}, verbose=False)
        svc = SVCDetection.compute(real_frame, fake_frame, metadata)
    return {"overall": report.get_score(), **properties.to_dict(), "unified": unified.get_score(),
            "SVCDetection": svc}


def main() -> int:
    print("| table | generated rows | rows (real / gen.) | gankit quality_score | SDMetrics | "
          "column_shapes | SDMetrics | column_pair_trends | SDMetrics | largest abs. difference | "
          "detection_auc_svc (as a score) | SDMetrics SVCDetection |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for name, frame in tables().items():
        rng = np.random.default_rng(1)
        order = rng.permutation(len(frame))
        train = frame.iloc[order[: len(frame) // 2]].reset_index(drop=True)
        holdout = frame.iloc[order[len(frame) // 2:]].reset_index(drop=True)
        codec = TableCodec.fit(frame, train)
        data = TableData(codec, codec.encode(train), codec.encode(holdout))
        real = shuffled(data.holdout_rows, MAX_ROWS, SEED)  # the rows table_metrics takes
        for label, made in (("(a) real rows", train), ("(b) noisy copies", noisy(train, codec, rng)),
                            ("(c) columns shuffled", column_shuffles(train, rng))):
            encoded = codec.encode(made)
            ours = table_metrics(data, encoded)
            fake = data.harden(subsample(encoded, MAX_ROWS, SEED))
            theirs = sdmetrics_scores(codec, real, fake)
            gaps = [abs(ours[k] - theirs[t]) for k, t in KEYS]
            gaps.append(abs(ours["quality_score"] - theirs["unified"]))
            worst = max(worst, *gaps)
            cells = " | ".join(f"{ours[k]:.4f} | {theirs[t]:.4f}" for k, t in KEYS)
            print(f"| {name} | {label} | {len(real)} / {len(fake)} | {cells} | {max(gaps):.4f} | "
                  f"{ours['detection_auc_svc']:.3f} ({2 - 2 * max(ours['detection_auc_svc'], 0.5):.3f}) | "
                  f"{theirs['SVCDetection']:.3f} |")
    print(f"\nlargest |gankit - SDMetrics| over every table and score: {worst:.2g} "
          f"(tolerance {TOLERANCE})")
    timing()
    return 0 if worst <= TOLERANCE else 1


def timing() -> None:
    """Seconds of detection_auc_svc, and of a whole table_metrics call, on the mixed table's
    2,000 held-out rows against 2,000 noisy copies (one core's worth: BLAS on one thread)."""
    from gankit.tasks.table_metrics import detection_svc

    frame = mixed()
    train, holdout = frame.iloc[:2000].reset_index(drop=True), frame.iloc[2000:].reset_index(drop=True)
    codec = TableCodec.fit(frame, train)
    data = TableData(codec, codec.encode(train), codec.encode(holdout))
    fake = codec.encode(noisy(train, codec, np.random.default_rng(2)))
    table_metrics(data, fake)  # floors and references cached, as after a run's first evaluation
    start = time.perf_counter()
    detection_svc(codec, data.holdout_rows, data.harden(fake))
    svc = time.perf_counter() - start
    start = time.perf_counter()
    table_metrics(data, fake)
    print(f"2,000-row evaluation of the mixed table: detection_auc_svc {svc:.2f} s, "
          f"table_metrics (every table metric, floors cached) {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    sys.exit(main())
