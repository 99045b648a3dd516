"""A table run's length chosen by its held-out rows (gankit.session.phases): the early stop, the
best step kept, the all-rows phase, and resumes in either phase reaching the same numbers."""

import json
import os
import signal

import numpy as np
import pandas as pd
import pytest
import torch

import gankit
from gankit.api.training import Interrupted
from gankit.core.errors import GankitError
from gankit.session.loop import Budget
from gankit.session.phases import BEST
from gankit.store.checkpoint import load_checkpoint, open_latest
from gankit.store.runs import list_runs

# Small networks, an evaluation every 10 steps, patience 1: the early stop comes within 100 steps.
PHASED = {"model.g_hidden": [32], "model.d_hidden": [32], "train.batch_size": 50, "log.eval_every": 10,
          "log.checkpoint_every": 20, "log.snapshot_every": 50, "log.eval_samples": 300,
          "train.patience": 1, "train.all_rows": True}


def small_table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": 0.8 * x + 0.6 * rng.normal(size=n), "count": rng.poisson(20, n),
                         "city": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])})


@pytest.fixture(scope="module")
def table_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "small.csv"
    small_table().to_csv(path, index=False)
    return path


def _train(table_file, out, **extra):
    # steps given and patience, all_rows set again after them: the phases stay on
    return gankit.train(data=str(table_file), steps=100, out=out, figures=False, progress=False,
                        set={**PHASED, **extra})


@pytest.fixture(scope="module")
def straight(table_file, tmp_path_factory):
    return _train(table_file, tmp_path_factory.mktemp("runs") / "straight")


def _rows(run):
    return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in run.folder.metrics.read()]


def test_the_early_stop_keeps_the_best_step_and_goes_on_on_all_rows(straight):
    summary = straight.summary
    held, extra = summary["held_out_phase"], summary["all_rows_phase"]
    assert summary["held_out"] is False and held["stopped_early"] is True and held["step"] < 100
    evaluated = {row["step"]: row["quality_score"] for row in straight.folder.metrics.read()
                 if "quality_score" in row}
    # Patience 1: the evaluation after the best was no better, and the stop comes at the next
    # evaluation step (the first at which that one is surely known), whose own evaluation may
    # still be the best.
    earlier = {step: value for step, value in evaluated.items() if step < held["step"]}
    assert max(earlier, key=earlier.get) == held["step"] - 20
    upto = {step: value for step, value in evaluated.items() if step <= held["step"]}
    assert held["best_step"] == max(upto, key=upto.get)
    assert held["metrics"]["quality_score"] == evaluated[held["best_step"]]
    # 240 training rows, 60 held out: a quarter of the best step's count on all 300 rows
    assert (extra["training_rows"], extra["rows"]) == (240, 300)
    assert extra["from_step"] == held["step"] and extra["steps"] == -(-held["best_step"] * 60 // 240)
    assert summary["step"] == held["step"] + extra["steps"] == straight.trainer.step_count
    info = json.loads((straight.path / "run.json").read_text())
    assert (info["best_step"], info["stopped_early"], info["all_rows_from"]) == (
        held["best_step"], True, held["step"])
    assert len(straight.task.train_rows) == 300  # the held-out rows joined
    best = load_checkpoint(straight.path / "checkpoints" / BEST)
    assert best["session"]["best_step"] == held["best_step"]
    assert open_latest(straight.path / "checkpoints")["session"]["phase"] == "all_rows"
    # gankit runs lists the held-out phase's metrics, not those of rows the model trained on
    (entry,) = list_runs(straight.path.parent)
    assert entry.metrics["quality_score"] == held["metrics"]["quality_score"]
    assert "best_step" not in entry.metrics and entry.step == summary["step"]


def test_without_the_all_rows_phase_the_model_is_the_best_steps(table_file, tmp_path):
    # ... in the last checkpoint, which Run.load and gankit sample open
    run = _train(table_file, tmp_path / "r", **{"train.all_rows": False})
    summary = run.summary
    assert "held_out_phase" not in summary and summary["stopped_early"] is True
    best = load_checkpoint(run.path / "checkpoints" / BEST)["trainer"]
    last = open_latest(run.path / "checkpoints")["trainer"]
    assert last["step"] == summary["step"] >= best["step"] == summary["best_step"]
    for key, value in best["ema_generator"].items():
        assert torch.equal(value, last["ema_generator"][key])
    loaded = gankit.Run.load(run.path)
    pd.testing.assert_frame_equal(loaded.sample(50, seed=3), run.sample(50, seed=3))
    evaluated = {row["step"]: row for row in run.folder.metrics.read() if "quality_score" in row}
    assert summary["quality_score"] == evaluated[summary["best_step"]]["quality_score"]


def _interrupt_at(monkeypatch, step):
    """SIGINT to this process once the run reaches ``step``, as a user's Ctrl-C would be."""
    real = Budget.step

    def step_then_signal(self, trainer):
        stats = real(self, trainer)
        if trainer.step_count == step:
            os.kill(os.getpid(), signal.SIGINT)
        return stats

    monkeypatch.setattr(Budget, "step", step_then_signal)


@pytest.mark.parametrize("where", ["held_out", "all_rows"])
def test_a_resume_in_either_phase_reaches_the_same_numbers(straight, table_file, tmp_path, monkeypatch,
                                                           where):
    held = straight.summary["held_out_phase"]
    at = held["best_step"] - 3 if where == "held_out" else held["step"] + 2
    with monkeypatch.context() as patch:
        _interrupt_at(patch, at)
        with pytest.raises(Interrupted):
            _train(table_file, tmp_path / "r")
    assert open_latest(tmp_path / "r" / "checkpoints")["session"]["phase"] == where
    resumed = gankit.resume(tmp_path / "r", figures=False, progress=False)
    assert _rows(resumed) == _rows(straight)
    assert resumed.summary == straight.summary
    for a, b in zip(straight.trainer.ema_generator.parameters(), resumed.trainer.ema_generator.parameters()):
        assert torch.equal(a, b)


def test_a_stated_length_is_the_whole_run(table_file, tmp_path):
    run = gankit.train(data=str(table_file), steps=30, out=tmp_path / "r", figures=False, progress=False,
                       set={k: v for k, v in PHASED.items() if not k.startswith("train.")})
    assert run.config.train.patience == 0 and not run.config.train.all_rows and run.config.train.epochs == 0
    assert run.summary["step"] == 30 and "best_step" not in run.summary
    assert not (run.path / "checkpoints" / BEST).exists()
    assert "session" not in open_latest(run.path / "checkpoints")


def test_resume_may_not_change_the_length_once_the_held_out_rows_chose_it(straight):
    with pytest.raises(GankitError, match="held-out phase has ended"):
        gankit.resume(straight.path, steps=500, figures=False, progress=False)


def test_eval_says_an_all_rows_runs_metrics_are_not_held_out(straight, table_file, tmp_path, capsys):
    from gankit.cli import main

    assert main(["eval", str(straight.path), "--task-only", "--n", "200"]) == 0
    note = [line for line in capsys.readouterr().out.splitlines() if "not held out" in line]
    held = straight.summary["held_out_phase"]
    assert len(note) == 1 and f"at step {held['step']}" in note[0]
    plain = _train(table_file, tmp_path / "held", **{"train.all_rows": False})
    assert main(["eval", str(plain.path), "--task-only", "--n", "200"]) == 0
    assert "not held out" not in capsys.readouterr().out
