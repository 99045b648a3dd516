"""Training runs of a few hundred steps that must improve their metrics by a margin."""

import pytest

from gankit.config.resolve import resolve_config
from gankit.evaluation import Evaluator
from gankit.training.trainer import Trainer


def _config(preset="seed", **train):
    overrides = [{"train": train}] if train else []
    return resolve_config(preset, overrides=overrides + [{"log": {"eval_samples": 4096}}])


def test_short_default_run_improves_a_w1_by_a_wide_margin():
    trainer = Trainer.from_config(_config("default"))
    before = Evaluator(trainer).evaluate()
    for _ in range(500):
        trainer.step()
    after = Evaluator(trainer).evaluate()
    assert before["a_w1"] > 1.0
    assert after["a_w1"] < 0.3 * before["a_w1"], (before, after)
    assert after["curve_rmse_median"] < 0.5 * before["curve_rmse_median"]


@pytest.mark.parametrize("extra", [
    {"train": {"loss": "wasserstein_gp"}},
    {"train": {"r1": 1.0, "r2": 1.0}},
    {"model": {"spectral_norm": True, "pack": 4}, "train": {"loss": "hinge"}},
    {"train": {"loss": "least_squares", "lr_schedule": "cosine"}},
    {"train": {"loss": "relativistic"}},  # a G loss that needs real logits, with the loop untouched
])
def test_every_stabiliser_and_objective_trains_and_improves(extra):
    config = resolve_config("default", overrides=[extra, {"log": {"eval_samples": 2048}},
                                                  {"train": {"steps": 400}}])
    trainer = Trainer.from_config(config)
    before = Evaluator(trainer).evaluate()["a_w1"]
    for _ in range(400):
        trainer.step()
    assert Evaluator(trainer).evaluate()["a_w1"] < 0.6 * before
