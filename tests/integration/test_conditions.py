"""Conditional generation on the curves (data.condition = ["a"]): exact truth by hand, the
condition reaching both networks, members equal to single runs, resume, training that lowers
condition_error, and the CLI's one-line refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.evaluation import Evaluator
from gankit.tasks import make_task
from gankit.training.trainer import Trainer
from helpers import assert_second_member_is_single_run

CONDITIONED = {"data": {"condition": ["a"]}}


def test_a_real_curve_carries_its_own_a_and_condition_error_is_exact():
    task = make_task("parabola", {"condition": "a"})
    assert task.condition_width == 1
    b = torch.tensor(task.x**2 + 1, dtype=torch.float32)
    curves = torch.stack([1.5 * b - 1, 3.0 * b - 1])
    with_a = task.condition_real(curves, torch.Generator())
    assert with_a[:, -1].tolist() == pytest.approx([-0.5, 1.0])  # a scaled to [-1, 1] over [1, 3]
    asked = np.concatenate([curves.numpy(), np.array([[0.0], [1.0]])], axis=1)  # a = 2 and a = 3 asked
    assert task.condition_metrics(asked)["condition_error"] == pytest.approx(0.25, abs=1e-5)  # (0.5 + 0) / 2


def test_asking_checks_names_and_the_training_range():
    task = make_task("parabola", {"condition": ["a"]})
    assert task.condition_vector({"a": "2.5"}, 3)[:, 0].tolist() == [0.5] * 3
    with pytest.raises(GankitError, match=r"outside the training range \[1, 3\]; --extrapolate"):
        task.condition_vector({"a": 3.5}, 1)
    assert task.condition_vector({"a": 3.5}, 1, extrapolate=True).item() == pytest.approx(1.5)
    with pytest.raises(GankitError, match="'aa'.*did you mean 'a'"):
        task.condition_vector({"aa": 2}, 1)
    with pytest.raises(GankitError, match="must be a number"):
        task.condition_vector({"a": "big"}, 1)
    with pytest.raises(GankitError, match="not conditional"):
        make_task("parabola").condition_vector({"a": 2}, 1)
    with pytest.raises(GankitError, match="accepted: a"):
        make_task("parabola", {"condition": ["b"]})


def test_the_condition_reaches_g_and_d():
    trainer = Trainer.from_config(resolve_config("default", overrides=[CONDITIONED]))
    z = torch.randn(1, 8, trainer.config.model.noise_dim, generator=torch.Generator().manual_seed(0))
    low, high = (torch.cat([z, torch.full((1, 8, 1), v)], dim=-1) for v in (-1.0, 1.0))
    with torch.no_grad():
        assert not torch.allclose(trainer.generator(low), trainer.generator(high))
        x = trainer.generate(low)
        assert x.shape[-1] == 16 and torch.equal(x[..., -1], low[..., -1])
        other = torch.cat([x[..., :15], high[..., -1:]], dim=-1)
        assert not torch.allclose(trainer.discriminator(x), trainer.discriminator(other))


def test_members_equal_single_runs_with_conditions():
    overrides = [CONDITIONED, {"seeds": 2, "seed": 3}, {"log": {"eval_samples": 512}}]
    population = Trainer.from_config(resolve_config("default", overrides=overrides))
    single = Trainer.from_config(resolve_config("default", overrides=[CONDITIONED, {"seed": 4}]))
    assert_second_member_is_single_run(population, single, 15)


def test_a_conditional_run_resumes_bit_exact(tmp_path):
    fast = {"log.eval_every": 20, "log.checkpoint_every": 20, "data.condition": ["a"]}
    straight = gankit.train(data="parabola", steps=40, out=tmp_path / "a", figures=False, set=fast)
    gankit.train(data="parabola", steps=20, out=tmp_path / "b", figures=False, set=fast)
    resumed = gankit.resume(tmp_path / "b", steps=40, figures=False)
    for a, b in zip(straight.trainer.generator.parameters(), resumed.trainer.generator.parameters()):
        assert torch.equal(a, b)
    assert straight.summary["condition_error"] == resumed.summary["condition_error"]


def test_training_lowers_condition_error_and_samples_meet_the_condition(tmp_path):
    run = gankit.train(data="parabola", steps=1500, out=tmp_path / "run", figures=False,
                       set={"data.condition": ["a"], "log.eval_every": 1500})
    before = Evaluator(Trainer.from_config(run.trainer.config)).evaluate(2048)["condition_error"]
    after = run.summary["condition_error"]
    assert after < 0.5 * before and after < 0.15, (before, after)
    from gankit.tasks.parabola import fit_curves

    for a in (1.25, 2.75):
        a_hat, _ = fit_curves(run.sample(500, seed=0, condition={"a": a}), run.task.x)
        assert abs(np.median(a_hat) - a) < 0.15


def test_the_cli_trains_on_request_and_refuses_bad_conditions_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", "parabola", "--condition-on", "a", "--steps", "20", "--out", str(out),
                 "--set", "log.eval_every=20", "--no-figures"]) == 0
    samples = tmp_path / "a2.npy"
    assert main(["sample", str(out), "--n", "7", "--condition", "a=2", "--out", str(samples)]) == 0
    assert np.load(samples).shape == (7, 15)
    assert main(["plot", str(out)]) == 0
    assert (out / "figures" / "by_condition.png").stat().st_size > 10_000  # curves by the a asked for
    capsys.readouterr()
    for bad, message in ((["--condition", "b=2"], "accepted: a"),
                         (["--condition", "a=9"], "outside the training range"),
                         (["--condition", "a"], "NAME=VALUE"),
                         (["--condition", "a=9", "--refine", "drs"], "outside the training range")):
        assert main(["sample", str(out), "--n", "3", "--out", str(tmp_path / "x.npy"), *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert main(["train", "--data", "parabola", "--condition-on", "b", "--steps", "2",
                 "--out", str(tmp_path / "bad")]) == 2
    assert "accepted: a" in capsys.readouterr().err


def test_the_ring_on_request_learns_which_mode_it_is_asked_for(tmp_path):
    run = gankit.train(data="ring", steps=600, condition_on="mode", out=tmp_path / "ring", figures=False,
                       set={"log.eval_every": 600})
    before = Evaluator(Trainer.from_config(run.trainer.config)).evaluate(2048)["conditional_accuracy"]
    assert before < 0.3 and run.summary["conditional_accuracy"] > 0.7, (before, run.summary)
    nearest, _ = run.task.assign(run.sample(300, seed=0, condition={"mode": 5}))
    assert np.mean(nearest == 5) > 0.7
    with pytest.raises(GankitError, match="0 to 7"):
        run.sample(3, condition={"mode": 8})
    assert run.task.discriminator_figure(run.trainer.discriminator, "cpu", tmp_path / "d.png") is None


@pytest.mark.parametrize(("projection", "margin"), [(True, 0.3), (False, 0.05)])  # projection learns faster
def test_digits_on_request_reach_both_networks_and_learn_the_class(tmp_path, projection, margin):
    from gankit.nets.dcgan import ProjectionDiscriminator

    settings = {"log.eval_every": 200, "model.options.projection": projection}
    run = gankit.train(data="digits", steps=200, condition_on="class", out=tmp_path / "digits", figures=False,
                       set=settings)
    trainer = run.trainer
    assert isinstance(trainer.discriminator.__dict__["_skeleton"], ProjectionDiscriminator) == projection
    z = torch.randn(1, 4, trainer.config.model.noise_dim, generator=torch.Generator().manual_seed(0))
    asks = [torch.nn.functional.one_hot(torch.full((1, 4), k), 10).float() for k in (1, 7)]
    with torch.no_grad():
        a, b = (trainer.generate(torch.cat([z, c], dim=-1)) for c in asks)
        assert a.shape[-3:] == (11, 8, 8) and not torch.allclose(a[..., :1, :, :], b[..., :1, :, :])
        swapped = torch.cat([a[..., :1, :, :], b[..., 1:, :, :]], dim=-3)
        assert not torch.allclose(trainer.discriminator(a), trainer.discriminator(swapped))
    before = Evaluator(Trainer.from_config(trainer.config)).evaluate()["conditional_accuracy"]
    assert before < 0.3 and run.summary["conditional_accuracy"] > before + margin, (before, run.summary)
    sevens = run.sample(16, seed=0, condition={"class": 7})
    assert sevens.shape == (16, 8, 8) and sevens.dtype == np.uint8
    with pytest.raises(GankitError, match="0 to 9"):
        run.sample(2, condition={"class": 10})


def test_one_condition_per_sample_from_a_list_or_a_csv_file(tmp_path, capsys):
    from gankit.tasks.parabola import fit_curves

    out = tmp_path / "run"
    assert main(["train", "--condition-on", "a", "--steps", "1500", "--out", str(out), "--no-figures",
                 "--set", "log.eval_every=1500"]) == 0
    run = gankit.Run.load(out)
    asked = [1.2, 2.8, 1.2, 2.0]
    curves = run.sample(4, seed=0, condition=[{"a": a} for a in asked])
    a_hat, _ = fit_curves(curves, run.task.x)
    assert np.all(np.abs(a_hat - np.array(asked)) < 0.2), a_hat
    with pytest.raises(GankitError, match="3 conditions were given for 4 samples"):
        run.sample(4, condition=[{"a": 1.5}] * 3)
    table = tmp_path / "asked.csv"
    table.write_text("a\n1.2\n2.8\n1.2\n2.0\n")
    assert main(["sample", str(out), "--conditions", str(table), "--seed", "0",
                 "--out", str(tmp_path / "c.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), curves)  # the same noise, the same requests
    capsys.readouterr()
    for extra, message in ((["--n", "3"], "has 4 rows"), (["--condition", "a=2"], "not both")):
        argv = ["sample", str(out), "--conditions", str(table), *extra, "--out", str(tmp_path / "x.npy")]
        assert main(argv) == 2
        assert message in capsys.readouterr().err
