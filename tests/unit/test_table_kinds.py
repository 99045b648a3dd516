"""Column kinds as people have them (issue 26, item 2): datetimes, leading-zero codes, IDs,
constant columns, every problem column in one message, and data.types over any guess."""

import re

import numpy as np
import pandas as pd
import pytest

from gankit.core.errors import GankitError
from gankit.tasks import make_task
from gankit.tasks.table_codec import TableCodec

N = 60


def task_of(tmp_path, frame, name="t.csv", **params):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return make_task("table", {"path": str(path), **params})


def column(task, name):
    return next(c for c in task.codec.columns if c.name == name)


def random_rows(task, n=400, seed=0):
    """Decoded rows of random encoded values: what an untrained generator gives."""
    return task.decode(np.random.default_rng(seed).normal(size=(n, task.codec.width)).astype(np.float32))


def round_trip(codec):
    """The codec as a run folder keeps it (plain values and arrays), read back."""
    return TableCodec.from_dict(codec.to_dict())


@pytest.mark.parametrize("fmt", ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%Y-%m-%dT%H:%M"])
def test_a_date_column_is_learned_as_numbers_and_written_back_in_its_format_within_range(tmp_path, fmt):
    rng = np.random.default_rng(0)
    start = pd.Timestamp("2021-01-13")  # day 13 on: dd/mm/yyyy cannot be read as mm/dd/yyyy
    when = start + pd.to_timedelta(rng.integers(0, 400, N), unit="D") + pd.to_timedelta(
        rng.integers(0, 86_400, N) if "%H" in fmt else 0, unit="s")
    text = pd.Series(when).dt.strftime(fmt)
    text[3] = None  # a missing date
    frame = pd.DataFrame({"signup": text, "x": rng.normal(size=N)})
    task = task_of(tmp_path, frame)
    signup = column(task, "signup")
    assert signup.kind == "datetime" and signup.form == fmt and signup.has_missing
    assert "datetime column(s) learned as days or seconds since 1970" in task.describe()
    codec = round_trip(task.codec)
    back = codec.decode(task.train_rows.numpy())["signup"]
    train = frame["signup"].iloc[task.train_index].reset_index(drop=True)
    assert back.isna().equals(train.isna())
    days = (pd.to_datetime(back, format=fmt) - pd.to_datetime(train, format=fmt)).abs()
    assert days.max() <= pd.Timedelta(days=1)  # the quantile transform's interpolation
    fake = random_rows(task)["signup"].dropna()
    parsed = pd.to_datetime(fake, format=fmt)  # every value in the file's format
    assert (fake == parsed.dt.strftime(fmt)).all()
    low, high = pd.to_datetime(train.dropna(), format=fmt).agg(["min", "max"])
    assert parsed.min() >= low and parsed.max() <= high


def test_day_and_month_that_could_be_either_are_not_guessed(tmp_path):
    days = [f"{d:02d}/{m:02d}/2022" for d, m in zip(range(1, 13), range(12, 0, -1))] * 5
    task = task_of(tmp_path, pd.DataFrame({"when": days, "x": np.arange(60) % 7}))
    assert column(task, "when").kind == "categorical"
    task = task_of(tmp_path, pd.DataFrame({"when": days, "x": np.arange(60) % 7}),
                   types={"when": "datetime:%m/%d/%Y"})
    assert column(task, "when").kind == "datetime" and column(task, "when").form == "%m/%d/%Y"


ZIPS = ["01234", "00501", "02134", "10001", "07030", "94105"]


def test_zip_codes_keep_their_zeros(tmp_path):
    frame = pd.DataFrame({"zip": [ZIPS[i % 6] for i in range(N)], "x": np.arange(N) % 9})
    task = task_of(tmp_path, frame)
    assert column(task, "zip").kind == "categorical" and column(task, "zip").categories == sorted(ZIPS)
    assert set(random_rows(task)["zip"]) <= set(ZIPS)
    assert "codes with leading zeros kept as text: zip" in task.describe()
    task = task_of(tmp_path, frame, categorical=["zip"])
    assert column(task, "zip").categories == sorted(ZIPS)


def test_many_codes_are_learned_as_numbers_and_written_with_their_zeros(tmp_path):
    rng = np.random.default_rng(1)
    codes = [f"{v:05d}" for v in rng.integers(0, 3000, 300)]  # most with leading zeros, few repeats
    codes[0] = codes[1]  # not a value per row: not an ID
    task = task_of(tmp_path, pd.DataFrame({"zip": codes, "x": rng.normal(size=300)}))
    assert column(task, "zip").kind == "code" and column(task, "zip").digits == 5
    fake = round_trip(task.codec).decode(task.train_rows.numpy()[:50])["zip"]
    assert fake.str.fullmatch(r"\d{5}").all()


def test_numbers_without_leading_zeros_stay_numbers(tmp_path):
    frame = pd.DataFrame({"n": [str(10 + i % 13) for i in range(N)], "zero": [i % 3 for i in range(N)]})
    task = task_of(tmp_path, frame)
    assert column(task, "n").kind == "integer" and column(task, "zero").categories == [0, 1, 2]


def test_integer_and_text_ids_are_made_up_unique_in_the_same_form(tmp_path):
    rng = np.random.default_rng(2)
    customers = [f"A-{i:05d}" for i in rng.permutation(N) + 17]
    uuids = [f"{rng.integers(0, 2**32):08x}-{rng.integers(0, 2**16):04x}" for _ in range(N)]
    frame = pd.DataFrame({"row_id": np.arange(1, N + 1), "customer": customers, "uuid": uuids,
                          "x": rng.normal(size=N)})
    task = task_of(tmp_path, frame)
    assert [column(task, c).kind for c in ("row_id", "customer", "uuid")] == ["id", "id", "id"]
    assert task.codec.width == 1  # only x is learned
    fake = round_trip(task.codec).decode(task.train_rows.numpy()[:40])
    assert fake["row_id"].is_unique and fake["row_id"].min() > N and fake["row_id"].dtype == np.int64
    assert fake["customer"].is_unique and fake["customer"].str.fullmatch(r"A-\d{5}").all()
    assert not set(fake["customer"]) & set(frame["customer"])
    assert fake["uuid"].is_unique and fake["uuid"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}").all()
    out = tmp_path / "sample.csv"
    chunks = [task.decode(task.train_rows[:30]), task.decode(task.train_rows[30:])]
    task.write_samples(chunks, out)
    written = pd.read_csv(out)
    assert written["row_id"].is_unique and written["customer"].is_unique  # across chunks too
    assert "ID column(s), a different value on every row, not learned" in task.describe()


def test_constant_columns_are_copied_as_written(tmp_path):
    frame = pd.DataFrame({"region": ["NA"] * N, "code": ["007"] * N, "x": np.arange(N) % 11 / 2})
    task = task_of(tmp_path, frame)
    assert column(task, "region").kind == column(task, "code").kind == "constant"
    fake = random_rows(task, 5)
    assert (fake["region"] == "NA").all() and (fake["code"] == "007").all()


def test_every_problem_column_is_named_in_one_message_with_its_fix(tmp_path):
    rng = np.random.default_rng(3)
    amount = [str(v) for v in rng.integers(0, 100, N)]
    amount[7] = "unknown"
    frame = pd.DataFrame({"amount": amount, "comment": [f"said {i % 40} things" for i in range(N)],
                          "ok": rng.normal(size=N), "inf": [np.inf] + list(rng.normal(size=N - 1))})
    with pytest.raises(GankitError) as caught:
        task_of(tmp_path, frame)
    message = str(caught.value)
    assert message.startswith("3 columns cannot be learned as they are") and "\n" not in message
    assert "column 'amount' holds numbers but also 1 text value(s), e.g. 'unknown' on line 9" in message
    assert """--set 'data.na_values=["unknown"]'""" in message
    assert "--set data.types.amount=category" in message
    assert """column 'comment' has 40 distinct text values""" in message
    assert """--set 'data.drop=["comment"]'""" in message and """--set 'data.drop=["inf"]'""" in message


def test_data_types_override_any_guess(tmp_path):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"rating": rng.integers(1, 6, N), "zip": [ZIPS[i % 6] for i in range(N)],
                          "serial": rng.permutation(N) * 3, "level": rng.integers(0, 40, N)})
    guessed = task_of(tmp_path, frame)
    assert [column(guessed, c).kind for c in ("rating", "zip", "serial", "level")] == [
        "categorical", "categorical", "integer", "integer"]
    task = task_of(tmp_path, frame, types={"rating": "number", "zip": "integer", "serial": "id",
                                           "level": "category"})
    assert [column(task, c).kind for c in ("rating", "zip", "serial", "level")] == [
        "numeric", "integer", "id", "categorical"]
    fake = random_rows(task)
    assert fake["zip"].dtype == np.int64 and fake["serial"].is_unique
    with pytest.raises(GankitError, match="data.types.rating must be one of category"):
        task_of(tmp_path, frame, types={"rating": "ordinal"})
    with pytest.raises(GankitError, match="data.types names column 'ratin'.*did you mean 'rating'"):
        task_of(tmp_path, frame, types={"ratin": "number"})


def test_a_table_typed_on_the_command_line_trains_and_samples_its_forms(tmp_path):
    """The whole path: a semicolon file with a decimal comma, a date, codes, an ID, 'NA' text and
    a typed column; 2 steps; the sample keeps the header, separator and every value's form."""
    from gankit.cli import main

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({
        "id": [f"C{i:04d}" for i in range(N)], "zip": [ZIPS[i % 6] for i in range(N)],
        "day": (pd.Timestamp("2023-03-01") + pd.to_timedelta(rng.integers(0, 90, N), unit="D")).strftime(
            "%d.%m.%Y"),
        "region": [["NA", "EU", "None"][i % 3] for i in range(N)], "price": rng.gamma(2, 3, N).round(2),
        "stars": rng.integers(1, 6, N)})
    path = tmp_path / "shop.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False)
    run, out = tmp_path / "run", tmp_path / "sample.csv"
    assert main(["train", "--data", str(path), "--steps", "2", "--out", str(run), "--no-figures", "--quiet",
                 "--set", "data.types.stars=number", "--set", "train.batch_size=10",
                 "--set", "log.eval_samples=20"]) == 0
    assert main(["sample", str(run), "--n", "50", "--out", str(out)]) == 0
    sample = pd.read_csv(out, sep=";", decimal=",", dtype=str, keep_default_na=False)
    assert list(sample.columns) == list(frame.columns)
    assert sample["id"].is_unique and sample["id"].str.fullmatch(r"C\d{4}").all()
    assert set(sample["zip"]) <= set(ZIPS) and set(sample["region"]) <= {"NA", "EU", "None"}
    assert sample["day"].str.fullmatch(r"\d\d\.\d\d\.2023").all()
    assert all(re.fullmatch(r"\d+(,\d+)?", v) for v in sample["price"])
    assert pd.to_numeric(sample["stars"].str.replace(",", ".")).between(1, 5).all()
