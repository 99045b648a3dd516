"""A table conditioned on number columns (tasks.table_asked.RowConditions, tasks.table_numbers):
the condition is the column's encoded part, asked values decode back exactly, bad requests are
refused in one line, training draws the conditions of training rows, G and D read them, and
conditional_shapes scores rows against the held-out rows near the value asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from gankit.core.errors import GankitError
from gankit.tasks import make_task
from gankit.tasks.table_asked import ColumnConditions, RowConditions


def _write(tmp_path, rows: int = 400):
    rng = np.random.default_rng(0)
    x = rng.normal(50, 10, rows).round(1)
    frame = pd.DataFrame({
        "x": x,
        "y": (2 * x + rng.normal(0, 3, rows)).round(2),
        "age": rng.integers(18, 80, rows),
        "skew": rng.lognormal(0, 1, rows).round(3),
        "kind": rng.choice(["a", "b", "rare"], rows, p=[0.6, 0.37, 0.03]),
        "day": pd.Series(np.datetime64("2020-01-01") + rng.integers(0, 700, rows).astype("timedelta64[D]"))
        .dt.strftime("%Y-%m-%d"),
        "const": 1,
    })
    frame.loc[rng.random(rows) < 0.1, "skew"] = np.nan
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("numbers"))


def _task(path, condition, **params):
    return make_task("table", {"path": str(path), "condition": condition, **params})


def _column(task, name):
    return next(c for c in task.codec.columns if c.name == name)


def test_the_condition_is_the_encoded_part_and_decodes_to_the_value_asked(table):
    task = _task(table, ["x", "age", "skew", "day"])
    assert isinstance(task._conditions, RowConditions)
    assert task.condition_width == 1 + 1 + 3 + 1  # skew: its value and a present/missing one-hot
    x, age, skew = (_column(task, n) for n in ("x", "age", "skew"))
    asked = {"x": "41.37", "age": 40, "skew": "missing", "day": "2020-06-01"}
    c = task.condition_vector(asked, 3)
    assert c.shape == (3, 6) and c.dtype == torch.float32
    row = pd.DataFrame({**{k: [v] for k, v in asked.items()}, "y": [90.0], "kind": ["a"], "const": [1]})
    row["skew"] = np.nan
    row["x"] = 41.37
    encoded = task.encode(row[[col.name for col in task.codec.columns]])
    columns = task._conditions.columns
    assert torch.equal(c[0], encoded[0, columns])  # exactly the codec's own encoding of such a row
    rows = torch.zeros(3, task.shape[0])
    decoded = task.decode(task.attach_conditions(rows, c)[:, :task.shape[0]])
    assert decoded["x"].tolist() == [41.4] * 3  # rounded to the column's one decimal
    assert decoded["age"].tolist() == [40] * 3 and decoded["skew"].isna().all()
    assert decoded["day"].tolist() == ["2020-06-01"] * 3
    for value in np.linspace(x.low, x.high, 41).round(1).tolist() + [x.low, x.high]:
        back = task.decode(task.attach_conditions(torch.zeros(1, task.shape[0]),
                                                  task.condition_vector({**asked, "x": value}, 1))[:, :-6])
        assert back["x"].item() == value
    assert skew.has_missing and age.kind == "integer" and not x.has_missing


DROP = object()  # a request that leaves the column out
FULL = {"x": 50, "age": 30, "kind": "a", "day": "2020-05-05"}


@pytest.mark.parametrize(("change", "message"), [
    ({"x": 95}, r"x=95 is outside the training rows' range \[\d+(\.\d)?, \d+(\.\d)?\]; --extrapolate"),
    ({"x": "big"}, r"condition x must be a number, with '.' as the decimal mark "
                   r"\(column 'x' is numeric, training range \["),
    ({"age": 40.5}, "column 'age' holds whole numbers: ask for one, e.g. age=40"),
    ({"x": "missing"}, "column 'x' has no missing values: ask for a number in its training range"),
    ({"kind": 3}, "column 'kind' has no value 3; its values: a, b, rare"),
    ({"day": "tomorrow"}, "condition day must be a number written as %Y-%m-%d"),
    ({"agee": 30}, "names 'agee'.*did you mean 'age'"),
    ({"age": DROP}, "give each a value, e.g. --condition age=18"),
])
def test_bad_requests_are_refused_in_one_line(table, change, message):
    task = _task(table, ["x", "age", "kind", "day"])
    wanted = {k: v for k, v in {**FULL, **change}.items() if v is not DROP}
    with pytest.raises(GankitError, match=message) as caught:
        task.condition_vector(wanted, 1)
    assert "\n" not in str(caught.value)


def test_extrapolation_is_accepted_when_asked_and_goes_on_past_the_range(table):
    task = _task(table, ["x"])
    x = _column(task, "x")
    top = task.condition_vector({"x": x.high}, 1)[0, 0].item()
    with pytest.raises(GankitError, match="outside the training rows' range"):
        task.condition_vector({"x": x.high + 10}, 1)
    beyond = task.condition_vector({"x": x.high + 10}, 1, extrapolate=True)[0, 0].item()
    below = task.condition_vector({"x": x.low - 10}, 1, extrapolate=True)[0, 0].item()
    assert beyond > top + 0.5 and below < task.condition_vector({"x": x.low}, 1)[0, 0].item() - 0.5
    rows = task.attach_conditions(torch.zeros(2, task.shape[0]), torch.tensor([[beyond], [below]]))
    assert task.decode(rows[:, :-1])["x"].tolist() == pytest.approx([x.high + 10, x.low - 10])  # as asked


@pytest.mark.parametrize("name, past", [("x", 7.3), ("age", 12), ("skew", 40.0), ("day", 90)])
def test_a_number_asked_past_the_range_is_written_as_asked_and_g_own_numbers_stay_clipped(table, name, past):
    task = _task(table, [name])
    column = _column(task, name)
    asked: list = [column.high + past, column.low - past]
    if name == "day":  # a date column is asked and written as dates
        asked = [str(np.datetime64("1970-01-01") + np.timedelta64(int(v), "D")) for v in asked]
    c = torch.cat([task.condition_vector({name: v}, 1, extrapolate=True) for v in asked])
    wild = torch.full((2, task.shape[0]), 25.0)  # G's own outputs far past every column's range
    written = task.decode(task.attach_conditions(wild, c)[:, :task.shape[0]])
    if name == "day":
        assert written[name].astype(str).tolist() == asked
    else:
        assert written[name].tolist() == pytest.approx(asked, abs=1e-9)
    for other in ("x", "y", "age"):  # the numbers G writes itself: clipped to the training range
        if other != name:
            assert written[other].max() == _column(task, other).high


def test_training_draws_the_parts_of_training_rows_and_real_rows_carry_their_own(table):
    task = _task(table, ["kind", "x"], balance=True)
    conditions = task._conditions
    assert isinstance(conditions, RowConditions) and conditions.width == 3 + 1
    parts = task.train_rows[:, conditions.columns]
    drawn = conditions.draw(3000, torch.Generator().manual_seed(0), training=True)
    assert all(bool((parts == row).all(dim=1).any()) for row in drawn[:200])  # each a training row's
    rare = (drawn[:, 2] == 1).float().mean().item()
    as_data = (conditions.draw(3000, torch.Generator().manual_seed(1), training=False)[:, 2] == 1)
    assert rare > 2 * as_data.float().mean().item()  # balance: the rare kind by its log count
    batch = task.sampler(torch.Generator().manual_seed(2)).draw(500)
    width = task.shape[0]
    assert torch.equal(batch[:, width:], batch[:, :width][:, conditions.columns])
    assert isinstance(_task(table, ["kind"])._conditions, ColumnConditions)  # categories: as before


def test_a_number_condition_reaches_g_and_d_and_g_rows_meet_it(table):
    from gankit.config import Config, DataConfig, ModelConfig
    from gankit.training.trainer import Trainer

    task = _task(table, ["x"])
    config = Config(data=DataConfig("table", {"path": str(table), "condition": ["x"]}),
                    model=ModelConfig(noise_dim=4))
    trainer = Trainer.from_config(config, task)
    z = torch.randn(1, 6, 4, generator=torch.Generator().manual_seed(0))
    asks = [task.condition_vector({"x": v}, 6)[None] for v in (35.0, 65.0)]
    with torch.no_grad():
        raw = [trainer.generator(torch.cat([z, a], dim=-1)) for a in asks]
        assert not torch.allclose(raw[0], raw[1])
        out = [trainer.generate(torch.cat([z, a], dim=-1)) for a in asks]
        logits = [trainer.discriminator(torch.cat([out[0][..., :task.shape[0]], a], dim=-1)) for a in asks]
        assert not torch.allclose(logits[0], logits[1])
    for made, value in zip(out, (35.0, 65.0)):
        assert task.decode(task.data_part(made[0]))["x"].tolist() == [value] * 6
        assert task.condition_metrics(made[0].numpy())["conditional_accuracy"] == 1.0
    wrong = out[0][0].numpy().copy()
    wrong[:2, -1] = asks[1][0, :2, 0].numpy()  # two rows said to be asked for another x
    assert task.condition_metrics(wrong)["conditional_accuracy"] == pytest.approx(4 / 6)


def test_conditional_shapes_is_its_floor_for_training_rows_and_drops_for_rows_of_other_values(table):
    task = _task(table, ["x"])
    columns = task._conditions.columns.numpy()
    rows = task.train_rows.numpy()
    own = np.concatenate([rows, rows[:, columns]], axis=1)
    scores = task.condition_metrics(own)
    assert scores["conditional_accuracy"] == 1.0
    assert scores["conditional_shapes"] == pytest.approx(scores["conditional_shapes_floor"])
    order = np.argsort(rows[:, columns[0]])
    swapped = rows.copy()
    swapped[order] = rows[order[::-1]]  # the row of the largest x asked for the smallest, ...
    swapped[:, columns] = rows[:, columns]
    other = task.condition_metrics(np.concatenate([swapped, rows[:, columns]], axis=1))
    # y alone follows x: its shape is lost (1 - KS near 0), the four other columns keep theirs
    assert other["conditional_shapes"] < scores["conditional_shapes"] - 0.08, (other, scores)


def test_the_saved_state_keeps_every_training_rows_parts_and_draws_alike(table):
    task = _task(table, ["kind", "x"])
    state = task.saved_state()
    # kind's one-hot kept as its code, x's part (its value) as it is
    assert state["condition_codes"].shape == (len(task.train_rows), 1)
    assert state["condition_numbers"].shape == (len(task.train_rows), 1)
    again = type(task).from_saved_state({"path": str(table), "condition": ["kind", "x"]}, state)
    assert torch.equal(again._conditions.parts, task._conditions.parts)
    draws = [t.conditions(50, torch.Generator().manual_seed(3), training=False) for t in (task, again)]
    assert torch.equal(draws[0], draws[1])


def test_a_column_the_networks_do_not_see_cannot_be_a_condition(table):
    with pytest.raises(GankitError, match="'const', a constant column, which is not learned"):
        _task(table, ["const"])
    assert "x" in _task(table, ["x"]).condition_names and "const" not in _task(table, ["x"]).condition_names
