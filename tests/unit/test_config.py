import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gankit.config import Config, config_from_dict, parse_override, preset, shortcut_overrides
from gankit.config.resolve import resolve_config, validate
from gankit.core.errors import GankitError


def test_seed_preset_has_the_seed_settings():
    c = resolve_config("seed")
    assert (c.train.batch_size, c.train.lr_g, c.train.lr_d, c.train.steps) == (64, 1e-4, 1e-4, 401)
    assert c.train.betas_g == [0.9, 0.999] and c.train.betas_d == [0.9, 0.999]  # Adam defaults
    assert c.train.loss == "minimax" and c.train.d_steps == 1 and c.train.ema == 0
    assert (c.model.noise_dim, c.model.g_hidden, c.model.d_hidden) == (5, [128], [128])
    assert c.model.activation == "relu"
    assert c.data.name == "parabola"
    assert c.data.params == {"a_min": 1.0, "a_max": 3.0, "n_points": 15, "x_min": -2.0, "x_max": 2.0,
                             "condition": []}
    assert c.log.snapshot_every == 100


def test_toml_round_trip_is_exact(tmp_path):
    c = resolve_config("default", overrides=[{"data": {"a_max": 4.0}}, {"train": {"lr_g": 3e-4}}])
    path = tmp_path / "c.toml"
    path.write_text(c.to_toml())
    again = resolve_config("seed", path)  # a full file overrides every preset value
    assert again == c


def test_precedence_preset_then_file_then_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[train]\nsteps = 77\nlr_g = 0.5\n")
    c = resolve_config("seed", path, shortcut_overrides(steps=99))
    assert c.train.steps == 99 and c.train.lr_g == 0.5 and c.train.batch_size == 64


@pytest.mark.parametrize("values, message", [
    ({"trian": {}}, "did you mean 'train'"),
    ({"train": {"stpes": 3}}, "did you mean 'steps'"),
    ({"train": {"steps": "many"}}, "train.steps must be of type int"),
    ({"train": {"steps": True}}, "train.steps must be of type int"),
    ({"model": {"g_hidden": [128, "x"]}}, r"model.g_hidden\[1\]"),
    ({"train": 5}, "must be a table"),
])
def test_bad_keys_and_types_are_named(values, message):
    with pytest.raises(GankitError, match=message):
        config_from_dict(values)


@pytest.mark.parametrize("override, message", [
    ({"train": {"lr_g": 0.0}}, "train.lr_g must be positive"),
    ({"train": {"batch_size": -1}}, "train.batch_size must be positive"),
    ({"train": {"ema": 1.0}}, "train.ema"),
    ({"train": {"betas_d": [0.5]}}, "train.betas_d"),
    ({"train": {"loss": "wgan"}}, "unknown objective 'wgan'"),
    ({"data": {"name": "parabol"}}, "did you mean 'parabola'"),
    ({"device": "tpu"}, "device must be"),
])
def test_out_of_range_values_are_refused(override, message):
    with pytest.raises(GankitError, match=message):
        resolve_config("default", overrides=[override])


def test_switching_dataset_drops_the_old_dataset_parameters():
    c = resolve_config("default", overrides=[{"data": {"a_max": 4.0}}, {"data": {"name": "parabola"}}])
    assert c.data.params["a_max"] == 4.0  # same dataset: parameters kept
    ring = resolve_config("default", overrides=[{"data": {"a_max": 4.0}}, {"data": {"name": "ring"}}])
    # resolved, none left over
    assert ring.data.params == {"n_modes": 8, "radius": 1.0, "std": 0.01, "condition": []}


def test_parse_override_reads_toml_values():
    assert parse_override("train.lr_g=2e-4") == {"train": {"lr_g": 2e-4}}
    assert parse_override("model.g_hidden=[64, 64]") == {"model": {"g_hidden": [64, 64]}}
    assert parse_override("train.loss=nonsaturating") == {"train": {"loss": "nonsaturating"}}
    with pytest.raises(GankitError, match="KEY=VALUE"):
        parse_override("train.lr_g")


def test_unknown_shortcut_is_refused():
    with pytest.raises(GankitError, match="did you mean 'steps'"):
        shortcut_overrides(step=3)


@settings(max_examples=60, deadline=None)
@given(
    steps=st.integers(1, 10**6),
    lr=st.floats(1e-6, 1.0),
    ema=st.floats(0.0, 0.9999),
    widths=st.lists(st.integers(1, 512), min_size=0, max_size=4),
    seed=st.integers(0, 2**31),
)
def test_any_valid_config_round_trips_through_toml(steps, lr, ema, widths, seed):
    c = config_from_dict(preset("default"))
    c.train.steps, c.train.lr_d, c.train.ema, c.model.g_hidden, c.seed = steps, lr, ema, widths, seed
    validate(c)
    import tomllib

    assert config_from_dict(tomllib.loads(c.to_toml())) == c


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers() | st.text(max_size=4), max_size=3))
def test_random_sections_never_crash_the_parser(train_section):
    with contextlib.suppress(GankitError):
        validate(config_from_dict({"train": train_section}))


def test_default_config_object_is_the_seed_shape():
    assert Config().train.steps == 401
