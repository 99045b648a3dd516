"""A table's condition vector (training-by-sampling): probabilities by hand, conditions that the
real rows meet, hard conditions on G's rows, and conditions reaching both networks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from gankit.tasks.table_conditions import ConditionedRows, SpanConditions

# Two spans: a 3-value category at columns 1-3, a present/missing indicator at columns 5-6.
SPANS = [(1, 4), (5, 7)]


def _rows() -> np.ndarray:
    """10 encoded rows: category values 0 x 7, 1 x 2, 2 x 1; missing in 2 rows."""
    rows = np.zeros((10, 8), dtype=np.float32)
    rows[:, 0] = np.arange(10)  # a number column, to tell rows apart
    for i, value in enumerate([0] * 7 + [1] * 2 + [2]):
        rows[i, 1 + value] = 1
    for i in range(10):
        rows[i, 5 + (i in (3, 8))] = 1
    return rows


def test_probabilities_follow_log_counts_in_training_and_counts_as_the_data_have_them() -> None:
    conditions = SpanConditions.of_rows(SPANS, _rows())
    assert conditions.width == 5
    assert conditions.positions.tolist() == [0, 1, 2, 3, 4]
    logs = [math.log(8), math.log(3), math.log(2)]
    expected_training = [v / sum(logs) / 2 for v in logs] + [math.log(9) / (math.log(9) + math.log(3)) / 2,
                                                            math.log(3) / (math.log(9) + math.log(3)) / 2]
    assert conditions.training_p.tolist() == pytest.approx(expected_training)
    assert conditions.data_p.tolist() == pytest.approx([0.35, 0.1, 0.05, 0.4, 0.1])


def test_values_without_training_rows_are_never_asked_for() -> None:
    conditions = SpanConditions(SPANS, [np.array([5, 0, 1]), np.array([4, 0])])
    assert conditions.positions.tolist() == [0, 2, 3]
    drawn = conditions.draw_options(2000, torch.Generator().manual_seed(0), training=True)
    assert set(drawn.tolist()) == {0, 2, 3}


def test_training_asks_for_a_rare_value_more_often_than_the_data_have_it() -> None:
    conditions = SpanConditions([(0, 2)], [np.array([990, 10])])
    rng = torch.Generator().manual_seed(0)
    rare_training = (conditions.draw_options(20000, rng, training=True) == 1).float().mean().item()
    rare_data = (conditions.draw_options(20000, rng, training=False) == 1).float().mean().item()
    assert rare_data == pytest.approx(0.01, abs=0.003)
    assert rare_training == pytest.approx(math.log(11) / (math.log(11) + math.log(991)), abs=0.01)


def test_real_rows_come_with_conditions_they_meet() -> None:
    rows = _rows()
    conditions = SpanConditions.of_rows(SPANS, rows)
    sampler = ConditionedRows(conditions, torch.from_numpy(rows), torch.Generator().manual_seed(1))
    batch = sampler.draw(500)
    x, c = batch[:, :8], batch[:, 8:]
    assert torch.all(c.sum(dim=1) == 1)
    position = c.argmax(dim=1)
    column = conditions.columns[position]
    assert torch.all(x[torch.arange(500), column] == 1)  # each row has the value asked for
    # held-out style rows: a span drawn at random, the row's own value in it
    c2 = conditions.of_points(torch.from_numpy(rows), torch.Generator().manual_seed(2))
    assert torch.all(c2.sum(dim=1) == 1)
    assert torch.all(torch.from_numpy(rows)[torch.arange(10), conditions.columns[c2.argmax(dim=1)]] == 1)


def test_training_batches_hold_the_rare_value_as_often_as_asked() -> None:
    rows = _rows()
    conditions = SpanConditions.of_rows(SPANS, rows)
    sampler = ConditionedRows(conditions, torch.from_numpy(rows), torch.Generator().manual_seed(3))
    batch = sampler.draw(20000)
    share = (batch[:, 3] == 1).float().mean().item()  # the value in 1 row of 10 (a present one)
    asked = 0.5 * math.log(2) / (math.log(8) + math.log(3) + math.log(2))
    with_present = 0.5 * math.log(9) / (math.log(9) + math.log(3)) / 8  # 1 of the 8 present rows
    assert share == pytest.approx(asked + with_present, abs=0.01)
    assert share > 0.12  # its share of the rows is 0.1


def test_impose_sets_the_span_asked_for_and_leaves_the_others() -> None:
    conditions = SpanConditions.of_rows(SPANS, _rows())
    x = torch.full((2, 8), 0.5)
    c = conditions.vectors(torch.tensor([2, 4]))
    out = conditions.impose(x, c)
    assert out[0].tolist() == [0.5, 0, 0, 1, 0.5, 0.5, 0.5, 0.5]
    assert out[1].tolist() == [0.5, 0.5, 0.5, 0.5, 0.5, 0, 1, 0.5]


def _balanced_table(tmp_path, balance: bool = True):
    from gankit.tasks import make_task

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"kind": rng.choice(["a", "b", "rare"], size=300, p=[0.6, 0.37, 0.03]),
                          "size": rng.normal(size=300).round(2)})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    return make_task("table", {"path": str(path), "balance": balance})


def test_conditions_reach_both_networks_and_stay_out_of_decoded_rows(tmp_path) -> None:
    from gankit.config import Config, DataConfig, ModelConfig
    from gankit.training.trainer import Trainer

    task = _balanced_table(tmp_path)
    assert task.condition_width == 3
    config = Config(data=DataConfig("table", {"path": task.path}), model=ModelConfig(noise_dim=4))
    trainer = Trainer.from_config(config, task)
    z = torch.randn(1, 5, 4, generator=torch.Generator().manual_seed(0))
    asks = [task.conditions(5, torch.Generator().manual_seed(0), training=False) * 0 for _ in range(2)]
    asks[0][:, 0] = 1
    asks[1][:, 2] = 1
    with torch.no_grad():
        raw = [trainer.generator(torch.cat([z, a[None]], dim=-1)) for a in asks]
        assert not torch.allclose(raw[0], raw[1])  # G reads the condition
        out = [trainer.generate(torch.cat([z, a[None]], dim=-1)) for a in asks]
        span = task.codec.spans()[0]
        assert torch.all(out[0][0, :, span[0]] == 1) and torch.all(out[1][0, :, span[0] + 2] == 1)
        x = out[0]
        logits = [trainer.discriminator(torch.cat([x[..., :task.shape[0]], a[None]], dim=-1)) for a in asks]
        assert not torch.allclose(logits[0], logits[1])  # D reads the condition
    assert task.data_part(out[0]).shape[-1] == task.shape[0]
    assert list(task.decode(task.data_part(out[0][0])).columns) == ["kind", "size"]


def test_without_balance_the_table_has_no_conditions(tmp_path) -> None:
    task = _balanced_table(tmp_path, balance=False)
    assert task.condition_width == 0
    x = torch.zeros(3, task.shape[0])
    assert task.condition_real(x, torch.Generator()) is x


def test_share_gap_by_hand_and_its_gradient_raises_what_g_makes_too_rarely() -> None:
    from gankit.tasks.table_conditions import one_hot_head, share_gap, span_groups

    columns = torch.tensor([0, 1])
    real = torch.tensor([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])  # shares 0.75, 0.25
    fake = torch.tensor([[[1.0, 0.0]] * 4])  # shares 1, 0
    expected = 0.25**2 / 0.76 + 0.25**2 / 0.26
    assert share_gap(fake, real, columns).item() == pytest.approx(expected)
    assert share_gap(real, real, columns).item() == 0.0
    logits = torch.zeros(1, 4, 2, requires_grad=True)
    with torch.no_grad():
        logits[..., 0] = 1.0  # every row's argmax is value 0
    head = one_hot_head(logits, span_groups([(0, 2)]))
    share_gap(head, real, columns).sum().backward()
    assert torch.all(logits.grad[..., 1] < 0)  # descending raises the rare value's logit


def test_the_share_term_is_in_g_loss_only_when_asked_for(tmp_path) -> None:
    task = _balanced_table(tmp_path, balance=False)
    x = torch.zeros(1, 4, task.shape[0])
    assert task.generator_term(x, x) is None
    task.match_shares = 2.0
    real = x.clone()
    real[..., task.codec.spans()[0][0]] = 1
    assert task.generator_term(x, real).item() == pytest.approx(2.0 * 1 / 1.01)


def test_column_conditions_count_combinations_and_ask_for_values() -> None:
    from gankit.core.errors import GankitError
    from gankit.tasks.table_asked import ColumnConditions

    rows = _rows()
    conditions = ColumnConditions.of_rows(["kind", "size_missing"], [["a", "b", "c"], ["no", "yes"]],
                                          SPANS, rows, balance=False)
    # combinations (kind, missing): (0,0) x 6, (0,1) x 1, (1,0) x 1, (1,1) x 1, (2,0) x 1
    assert conditions.patterns.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]]
    assert conditions.counts.tolist() == [6, 1, 1, 1, 1]
    assert conditions.data_p.tolist() == pytest.approx([0.6, 0.1, 0.1, 0.1, 0.1])
    assert conditions.vectors(torch.tensor([3])).tolist() == [[0, 1, 0, 0, 1]]
    asked = conditions.ask({"kind": "c", "size_missing": "no"}, 2, "cpu")
    assert asked.tolist() == [[0, 0, 1, 1, 0]] * 2
    with pytest.raises(GankitError, match="no value 'd'.*its values: a, b, c"):
        conditions.ask({"kind": "d", "size_missing": "no"}, 1, "cpu")
    with pytest.raises(GankitError, match="give each a value"):
        conditions.ask({"kind": "a"}, 1, "cpu")
    groups = conditions.option_rows(torch.from_numpy(rows))
    assert [len(g) for g in groups] == [6, 1, 1, 1, 1]
    points = np.concatenate([rows, rows[:, conditions.columns.numpy()]], axis=1)
    assert conditions.met(points) == 1.0
    points[0, -5:] = [0, 0, 1, 1, 0]  # row 0 asked for c, holds a
    assert conditions.met(points) == pytest.approx(0.9)


def test_a_table_conditioned_on_a_column_meets_every_request(tmp_path) -> None:
    import gankit
    from gankit.core.errors import GankitError

    task = _balanced_table(tmp_path, balance=False)
    run = gankit.train(data=task.path, steps=30, out=tmp_path / "run", figures=False, progress=False,
                       set={"data.condition": ["kind"], "log.eval_every": 30, "model.g_hidden": [32],
                            "model.d_hidden": [32]})
    assert run.summary["conditional_accuracy"] == 1.0
    rare = run.sample(200, seed=0, condition={"kind": "rare"})
    assert list(rare.columns) == ["kind", "size"] and set(rare["kind"]) == {"rare"}
    with pytest.raises(GankitError, match="did you mean 'kind'"):
        run.sample(5, condition={"knd": "a"})
    for bad, message in ((["kind", "kind"], "names a column twice"), (["kinds"], "did you mean 'kind'")):
        with pytest.raises(GankitError, match=message):
            gankit.train(data=task.path, steps=2, out=tmp_path / "bad", figures=False, progress=False,
                         set={"data.condition": bad})
