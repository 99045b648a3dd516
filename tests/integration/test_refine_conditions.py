"""D-guided refinement of a conditional run: the chains and D's calibration read D(x, c), each
proposal carrying the condition asked for, so refined points keep meeting it (the curves' a, the
ring's mode), from Python and through ``gankit sample --condition ... --refine`` and
``gankit eval --refine``; the digits' real images get their own labels for calibration."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.config.resolve import resolve_config
from gankit.evaluation.refine import RefineSettings, refine
from gankit.tasks import make_task
from gankit.tasks.base import cycled_order
from gankit.tasks.parabola import fit_curves
from gankit.training.trainer import Trainer

SETTINGS = [RefineSettings(method="drs", burn_in=2000),
            RefineSettings(method="mh", chain=10, calibrate="isotonic", calibration_samples=2000)]
MARGIN = 0.02  # refined points may miss the condition by this much more than G's own


def _trained(tmp_path_factory, data: str, condition: str, steps: int):
    out = tmp_path_factory.mktemp("refine_conditions") / data
    assert main(["train", "--data", data, "--condition-on", condition, "--steps", str(steps), "--quiet",
                 "--no-figures", "--out", str(out), "--set", f"log.eval_every={steps}"]) == 0
    return out


@pytest.fixture(scope="module")
def curves(tmp_path_factory):
    return _trained(tmp_path_factory, "parabola", "a", 1000)


@pytest.fixture(scope="module")
def ring(tmp_path_factory):
    return _trained(tmp_path_factory, "ring", "mode", 600)


@pytest.mark.parametrize("settings", SETTINGS, ids=["drs", "mh"])
def test_refined_curves_keep_the_a_asked_for(curves, settings):
    run = gankit.Run.load(curves)
    for a in (1.5, 2.5):
        plain, _ = fit_curves(run.sample(600, seed=0, condition={"a": a}), run.task.x)
        refined = run.refine(600, settings, seed=0, condition={"a": a})
        points = refined.samples[0].numpy()
        assert np.all(points[:, -1] == points[0, -1])  # every point judged and returned with the a asked
        a_hat, _ = fit_curves(run.task.data_part(points), run.task.x)
        # the curves alone would be near 2 on average: an a ignored by refinement fails here
        assert np.mean(np.abs(a_hat - a)) <= np.mean(np.abs(plain - a)) + MARGIN, (a, settings.method)
        assert abs(np.median(a_hat) - a) < 0.15


@pytest.mark.parametrize("settings", SETTINGS, ids=["drs", "mh"])
def test_refined_ring_points_stay_in_the_mode_asked_for(ring, settings):
    run = gankit.Run.load(ring)
    for mode in (2, 5):
        plain, _ = run.task.assign(run.sample(500, seed=1, condition={"mode": mode}))
        refined, cost = run.sample_refined(500, settings, seed=1, condition={"mode": mode})
        nearest, _ = run.task.assign(refined)
        assert np.bincount(nearest, minlength=8).argmax() == mode  # the mode asked is the mode obtained
        assert np.mean(nearest == mode) >= np.mean(plain == mode) - MARGIN, (mode, settings.method)
        assert 0 < cost["acceptance_rate"] <= 1


def test_one_condition_per_point_is_refined_request_by_request(ring):
    run = gankit.Run.load(ring)
    asked = [{"mode": m} for m in (1, 6, 1, 3, 6, 6)] * 20
    out = run.refine(len(asked), RefineSettings(burn_in=500), seed=2, condition=asked)
    wanted = np.array([a["mode"] for a in asked])
    np.testing.assert_array_equal(out.samples[0, :, 2:].argmax(-1).numpy(), wanted)  # each in its place
    nearest, _ = run.task.assign(out.samples[0, :, :2].numpy())
    assert np.mean(nearest == wanted) > 0.7
    assert 0 < out.acceptance_rate[0] <= 1 and out.g_passes[0] > 1


def test_the_cli_samples_and_evaluates_a_conditional_run_refined(curves, tmp_path, capsys):
    out = tmp_path / "a2.npy"
    assert main(["sample", str(curves), "--n", "64", "--seed", "1", "--condition", "a=2", "--refine", "drs",
                 "--out", str(out)]) == 0
    a_hat, _ = fit_curves(np.load(out), make_task("parabola").x)
    assert np.load(out).shape == (64, 15) and abs(np.median(a_hat) - 2) < 0.15
    assert "acceptance rate" in capsys.readouterr().out
    table = tmp_path / "asked.csv"
    table.write_text("a\n1.2\n2.8\n1.2\n")
    assert main(["sample", str(curves), "--conditions", str(table), "--refine", "mh", "--chain", "3",
                 "--out", str(tmp_path / "rows.npy")]) == 0
    a_hat, _ = fit_curves(np.load(tmp_path / "rows.npy"), make_task("parabola").x)
    assert np.all(np.abs(a_hat - [1.2, 2.8, 1.2]) < 0.3), a_hat
    capsys.readouterr()
    assert main(["eval", str(curves), "--n", "512", "--task-only", "--json", "--refine", "mh", "--chain", "3",
                 "--calibrate", "isotonic"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["condition_error"] < 0.15 and 0 < printed["acceptance_rate"] <= 1
    assert main(["sample", str(curves), "--condition", "a=9", "--refine", "drs",
                 "--out", str(tmp_path / "x.npy")]) == 2  # the same one-line refusals as without --refine
    assert "outside the training range" in capsys.readouterr().err


def test_the_digits_real_images_come_with_their_own_labels():
    task = make_task("digits", {"condition": ["class"]})
    rows = task.calibration_rows(500, torch.Generator().manual_seed(3))
    with_labels = task.calibration_points(500, torch.Generator().manual_seed(3))
    held = len(task.train_index)
    order = cycled_order(len(task.images) - held, 500, torch.Generator().manual_seed(3))
    labels = torch.from_numpy(task.labels[held:][order]).long()  # each held-out image's own
    assert torch.equal(with_labels[:, 1:, 0, 0].argmax(-1), labels)
    assert torch.equal(with_labels[:, :1], rows)


def test_an_untrained_conditional_digits_run_refines_with_the_class_asked_for():
    trainer = Trainer.from_config(resolve_config("digits", overrides=[{"data": {"condition": ["class"]}}]))
    seven = trainer.task.condition_vector({"class": 7}, 24)
    for settings in (RefineSettings(burn_in=200), RefineSettings(method="mh", chain=2, calibrate="logistic",
                                                                 calibration_samples=300)):
        out = refine(trainer, 24, settings, seed=0, condition=seven)
        assert out.samples.shape == (1, 24, 11, 8, 8)
        assert torch.equal(out.samples[0, :, 1:, 0, 0].argmax(-1), torch.full((24,), 7))
