"""A run's length from its table (train.epochs with a floor and a cap), the user's stated length
winning whole, and the checks of the keys of early stop and the all-rows phase."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from gankit.config import Config, preset
from gankit.config.parse import config_from_dict
from gankit.config.resolve import resolve_config, steps_from_rows
from gankit.config.schema import check_values
from gankit.core.errors import GankitError
from gankit.session.phases import _better, phases_on


def _table(path, rows):
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=rows), "c": rng.choice(["a", "b"], rows)}).to_csv(path, index=False)
    return str(path)


def test_steps_from_rows_are_epochs_within_the_floor_and_the_cap():
    assert steps_from_rows(200, 120, 500, 1000, 4000) == 1000  # iris: the floor
    assert steps_from_rows(200, 8000, 500, 1000, 4000) == 3200  # 200 passes of 8,000 rows
    assert steps_from_rows(200, 40000, 500, 1000, 4000) == 4000  # the cap
    assert steps_from_rows(200, 40000, 500, 1000, 0) == 16000  # no cap
    assert steps_from_rows(0.5, 10, 500, 0, 0) == 1  # never 0 steps


def test_the_table_preset_follows_the_rows(tmp_path):
    small = resolve_config(overrides=[{"data": {"name": _table(tmp_path / "s.csv", 150)}}])
    assert small.train.steps == 2000 and small.train.epochs == 100  # 120 training rows: the floor
    large = resolve_config(overrides=[{"data": {"name": _table(tmp_path / "l.csv", 10000)}}])
    assert large.train.steps == 2000  # 8,000 training rows x 100 epochs / 500 rows a step: 1,600
    assert large.train.patience == 8 and large.train.stop_metric == "quality_score"
    assert not large.train.all_rows  # measured: it lost on the larger tables (BENCHMARKS section 18)
    assert large.data.params["match_shares"] == 1.0
    # the resolved config.toml trains again as the same run
    path = tmp_path / "config.toml"
    path.write_text(large.to_toml())
    assert resolve_config(None, path) == large


def test_a_stated_length_wins_whole(tmp_path):
    data = {"data": {"name": _table(tmp_path / "t.csv", 10000)}}
    stated = resolve_config(overrides=[data, {"train": {"steps": 300}}])
    assert (stated.train.steps, stated.train.epochs, stated.train.patience, stated.train.all_rows) == (
        300, 0, 0, False)
    # ... unless early stop or the all-rows phase is asked for again after it
    again = resolve_config(overrides=[data, {"train": {"steps": 300}}, {"train": {"all_rows": True}}])
    assert (again.train.steps, again.train.patience, again.train.all_rows) == (300, 0, True)
    # epochs stated after the steps: the rows decide again
    epochs = resolve_config(overrides=[data, {"train": {"steps": 300}}, {"train": {"epochs": 150}}])
    assert epochs.train.steps == 2400 and epochs.train.patience == 8
    floor = resolve_config(overrides=[data, {"train": {"epochs": 20}}])
    assert floor.train.steps == 2000  # 320 steps, under the floor
    # a partial file stating the steps counts as the user's too
    path = tmp_path / "mine.toml"
    path.write_text("[train]\nsteps = 250\n")
    assert resolve_config(None, path, [data]).train.all_rows is False


@pytest.mark.parametrize("name", [n for n in ("default", "seed", "ring", "grid", "pacgan", "digits",
                                              "images", "images-gpu")])
def test_the_other_presets_are_unchanged_by_the_phases(name):
    config = config_from_dict(preset(name))
    assert not phases_on(config) and config.train.epochs == 0
    assert config.train.steps == {"default": 4000, "seed": 401, "ring": 12000, "grid": 12000,
                                  "pacgan": 20000, "digits": 4000, "images": 6000,
                                  "images-gpu": 10000}[name]


def test_epochs_on_a_law_sampled_afresh_leave_the_steps():
    config = resolve_config("default", overrides=[{"train": {"epochs": 5.0}}])
    assert config.train.steps == 4000


@pytest.mark.parametrize("train, message", [
    ({"patience": 3}, "needs train.stop_metric"),
    ({"patience": 3, "stop_metric": "density"}, "needs train.stop_metric"),  # no better direction
    ({"patience": 3, "stop_metric": "quality_score", "lr_schedule": "linear"}, "lr_schedule = 'constant'"),
    ({"all_rows": True, "lr_schedule": "cosine"}, "lr_schedule = 'constant'"),
    ({"min_steps": 500, "max_steps": 100}, "is above train.max_steps"),
    ({"epochs": -1.0}, "train.epochs must be 0"),
    ({"patience": -1}, "train.patience must be 0"),
])
def test_bad_length_keys_are_refused(train, message):
    config = Config()
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, **train))
    with pytest.raises(GankitError, match=message):
        check_values(config)


def test_better_follows_the_metrics_direction():
    assert _better("higher", 0.8, None) and _better("higher", 0.8, 0.7) and not _better("higher", 0.7, 0.7)
    assert _better("lower", 0.1, 0.2) and not _better("lower", 0.3, 0.2)
    assert not _better("higher", float("nan"), None)
