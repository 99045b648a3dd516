"""Seeded tables for the table benchmarks (benchmarks/tables.py, benchmarks/rare_shares.py):
scikit-learn's iris and diabetes, a made-up mixed table (numbers, categories with rare ones,
missing values, an ISO date column, an integer column) and a table of rare categories and
missing shares. Each builder returns a DataFrame; :func:`write` puts it in a CSV file for
``gankit train --data FILE.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATE_FORMAT = "%Y-%m-%d"  # the mixed table's date column, as written in the file


def iris() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame.rename(columns={"target": "species"})


def diabetes() -> pd.DataFrame:
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True, scaled=False).frame


def _pick(rng: np.random.Generator, shares: dict[str, float], rows: int) -> np.ndarray:
    names = list(shares)
    p = np.array([shares[n] for n in names], dtype=float)
    return rng.choice(np.array(names, dtype=object), rows, p=p / p.sum())


def mixed(rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A customer-like table: ``age`` (whole years, an integer column), ``income`` (lognormal,
    tied to age, 4% missing), ``spend`` (tied to income), ``region`` (4 common values tied to
    income, 2 rare ones of about 2% and 1.5%), ``plan`` (tied to region and age, a rare
    ``enterprise`` of about 2.5%, 3% missing), ``signup`` (an ISO date, later for younger
    customers) and ``visits`` (a count 0..30, tied to spend)."""
    rng = np.random.default_rng(seed)
    age = np.clip(np.round(rng.normal(44, 13, rows)), 18, 90).astype(int)
    wealth = 0.03 * (age - 44) + rng.normal(0, 0.5, rows)
    income = np.round(np.exp(10.6 + wealth), 2)
    spend = np.round(0.02 * income * np.exp(rng.normal(0, 0.3, rows)), 2)
    region = np.where(wealth > 0.45, "north", np.where(wealth < -0.45, "south",
                      rng.choice(np.array(["east", "west"], dtype=object), rows))).astype(object)
    rare = rng.random(rows)
    region[rare < 0.035] = np.where(rare[rare < 0.035] < 0.015, "island", "harbour")
    plan = np.where(rng.random(rows) < 0.6, np.where(region == "north", "gold", "basic"),
                    _pick(rng, {"basic": 0.5, "gold": 0.3, "trial": 0.2}, rows)).astype(object)
    plan[(age < 30) & (rng.random(rows) < 0.5)] = "trial"
    plan[rng.random(rows) < 0.025] = "enterprise"
    start = np.datetime64("2019-01-01")
    days = np.clip(np.round(1000 - 20 * (age - 44) + rng.normal(0, 250, rows)), 0, 1825).astype(int)
    signup = pd.Series(start + days.astype("timedelta64[D]")).dt.strftime(DATE_FORMAT)
    visits = np.clip(rng.poisson(np.clip(spend / 60, 0.2, 25)), 0, 30)
    frame = pd.DataFrame({"age": age, "income": income, "spend": spend, "region": region, "plan": plan,
                          "signup": signup, "visits": visits})
    frame.loc[rng.random(rows) < 0.04, "income"] = np.nan
    frame.loc[rng.random(rows) < 0.03, "plan"] = np.nan
    return frame


RARE = {"red": 0.40, "green": 0.27, "blue": 0.213, "amber": 0.032, "teal": 0.02, "plum": 0.013,
        "onyx": 0.032, "sand": 0.02}  # colour: three common values and rare ones of 3.2%, 2%, 1.3%
SIZES = {"small": 0.45, "medium": 0.385, "large": 0.12, "huge": 0.025, "tiny": 0.02}


def rare(rows: int = 4000, seed: int = 0) -> pd.DataFrame:
    """Categories of 1.3-3.2% beside common ones: ``colour`` (shares ``RARE``, tied to
    ``weight``), ``size`` (``SIZES``, tied to ``colour``, 3% missing) and ``shop`` (a 1.5% one);
    numbers ``weight`` (3% missing), ``price`` (tied to size) and ``score`` (no missing value:
    :func:`one_missing` takes one out of a training row)."""
    rng = np.random.default_rng(seed)
    colour = _pick(rng, RARE, rows)
    base = {name: i for i, name in enumerate(RARE)}
    weight = np.round(50 + 4 * np.array([base[c] for c in colour]) + rng.normal(0, 6, rows), 1)
    size = _pick(rng, SIZES, rows)
    tied = (colour == "red") & (rng.random(rows) < 0.3)
    size[tied] = "small"
    factor = {"tiny": 0.5, "small": 1.0, "medium": 1.6, "large": 2.5, "huge": 4.0}
    price = np.round(20 * np.array([factor[s] for s in size]) * np.exp(rng.normal(0, 0.25, rows)), 2)
    shop = _pick(rng, {"online": 0.6, "city": 0.385, "airport": 0.015}, rows)
    score = np.round(rng.normal(0, 1, rows) + 0.01 * weight, 3)
    frame = pd.DataFrame({"colour": colour, "size": size, "shop": shop, "weight": weight, "price": price,
                          "score": score})
    frame.loc[rng.random(rows) < 0.03, "weight"] = np.nan
    frame.loc[rng.random(rows) < 0.03, "size"] = np.nan
    return frame


def one_missing(frame: pd.DataFrame, row: int, column: str = "score") -> pd.DataFrame:
    """``frame`` with ``column`` missing in ``row`` alone."""
    out = frame.copy()
    out.loc[row, column] = np.nan
    return out


def write(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


BUILDERS = {"iris": iris, "diabetes": diabetes, "mixed": mixed}
