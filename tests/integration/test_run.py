import json

import numpy as np
import pytest
import torch

import gankit
from gankit.api.run import Run
from gankit.api.training import resume
from gankit.core.errors import GankitError

FAST = {"log.eval_samples": 2048, "log.eval_every": 20, "log.log_every": 5,
        "log.snapshot_every": 20, "log.checkpoint_every": 20}


def _train(out, steps=40, **kw):
    return gankit.train(preset="seed", out=out, steps=steps, set=FAST, figures=False, **kw)


def test_api_trains_samples_and_evaluates(tmp_path):
    run = _train(tmp_path / "r")
    x = run.sample(100)
    assert x.shape == (100, 15)
    assert run.summary["step"] == 40 and "a_w1" in run.summary and "success" in run.summary
    assert set(run.evaluate(2048)) >= {"a_w1", "curve_rmse_median", "valid_fraction",
                                       "d_real_mean", "d_fake_mean"}
    rows = [json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(5, 41, 5))
    info = json.loads((tmp_path / "r" / "run.json").read_text())
    assert 0 < info["step_seconds"] < rows[-1]["elapsed_s"]  # the steps, a part of the run's time


def test_same_config_gives_the_same_summary(tmp_path):
    a = _train(tmp_path / "a").summary
    b = _train(tmp_path / "b").summary
    assert a == b


def test_config_toml_repeats_the_run_exactly(tmp_path):
    first = _train(tmp_path / "a")
    again = gankit.train(config_file=tmp_path / "a" / "config.toml", out=tmp_path / "b",
                         figures=False)
    assert again.summary == first.summary
    assert torch.equal(again.trainer.g_flat, first.trainer.g_flat)


def test_resume_continues_bit_exactly(tmp_path):
    straight = _train(tmp_path / "straight", steps=60)
    _train(tmp_path / "split", steps=40)
    resumed = resume(tmp_path / "split", steps=60, figures=False)
    assert torch.equal(resumed.trainer.g_flat, straight.trainer.g_flat)
    assert torch.equal(resumed.trainer.d_flat, straight.trainer.d_flat)
    assert resumed.summary == straight.summary
    steps = [json.loads(x)["step"] for x in (tmp_path / "split" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(5, 61, 5))  # no duplicated or missing rows


def test_load_reopens_a_finished_run(tmp_path):
    run = _train(tmp_path / "r")
    again = Run.load(tmp_path / "r")
    np.testing.assert_array_equal(again.sample(10, seed=3), run.sample(10, seed=3))
    assert again.evaluate(2048) == run.evaluate(2048)


def test_an_existing_run_is_not_overwritten_silently(tmp_path):
    _train(tmp_path / "r")
    before = (tmp_path / "r" / "summary.json").read_bytes()
    with pytest.raises(GankitError, match="not empty"):
        _train(tmp_path / "r", steps=10)
    assert (tmp_path / "r" / "summary.json").read_bytes() == before
    _train(tmp_path / "r", steps=10, overwrite=True)
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["step"] == 10


def test_divergence_stops_with_the_step_and_keeps_the_checkpoint(tmp_path, poison_steps):
    poison_steps("d_loss", first=33)
    with pytest.raises(GankitError, match=r"diverged at step 33: d_loss is nan; at step 32: d_loss \d"
                       r".*the last good checkpoint is .*step_00000020.pt"):
        _train(tmp_path / "r", steps=100)
    kept = sorted(p.name for p in (tmp_path / "r" / "checkpoints").glob("step_*.pt"))
    assert kept == ["step_00000000.pt", "step_00000020.pt"]


def test_rollback_lowers_the_learning_rate_and_finishes(tmp_path, poison_steps):
    poisoned = poison_steps("g_loss", first=33, last=33, value=float("inf"))  # once: then step 33 is fine
    run = _train(tmp_path / "r", steps=60, on_divergence="rollback")
    assert run.summary["step"] == 60 and poisoned == [33]
    assert run.trainer.opt_g.lr == pytest.approx(0.5e-4) and run.trainer.opt_d.lr == pytest.approx(0.5e-4)
    steps = [json.loads(x)["step"] for x in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(5, 61, 5))


def test_rollbacks_are_bounded(tmp_path, poison_steps):
    poison_steps("d_loss", first=26)
    with pytest.raises(GankitError, match="diverged at step 26"):
        _train(tmp_path / "r", steps=60, on_divergence="rollback")


def test_one_diverged_member_does_not_stop_the_others(tmp_path, poison_steps):
    poison_steps("d_loss", first=12, member=1)
    run = _train(tmp_path / "r", steps=30, seeds=3)
    assert run.summary["diverged"] == 1 and run.summary["step"] == 30
    assert run.summary["members"]["success"][1] is False and run.summary["members"]["diverged"][1] is True


def test_resume_of_a_population_is_bit_exact(tmp_path):
    straight = _train(tmp_path / "straight", steps=60, seeds=3)
    _train(tmp_path / "split", steps=40, seeds=3)
    resumed = resume(tmp_path / "split", steps=60, figures=False)
    assert torch.equal(resumed.trainer.g_flat, straight.trainer.g_flat)
    assert torch.equal(resumed.trainer.d_flat, straight.trainer.d_flat)
    assert resumed.summary == straight.summary


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("path", ["stacked", "vmap"])
def test_a_population_trained_on_cuda_opens_on_the_cpu_and_resumes_on_cuda(tmp_path, path):
    settings = {**FAST, "model.population": path}
    straight = gankit.train(preset="seed", out=tmp_path / "a", steps=40, seeds=3, device="cuda",
                            set=settings, figures=False)
    gankit.train(preset="seed", out=tmp_path / "b", steps=20, seeds=3, device="cuda", set=settings,
                 figures=False)
    resumed = resume(tmp_path / "b", steps=40, figures=False)
    assert resumed.trainer.g_flat.is_cuda
    assert torch.equal(resumed.trainer.g_flat, straight.trainer.g_flat)
    on_cpu = Run.load(tmp_path / "a", device="cpu")
    assert on_cpu.sample(5, seed=0, member=2).shape == (5, 15)
    np.testing.assert_allclose(on_cpu.evaluate(2048)["a_w1"], straight.evaluate(2048)["a_w1"], rtol=1e-3)
