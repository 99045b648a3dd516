"""Refinement (DRS, MH-GAN) of the runs whose samples are not plain arrays: a table, sampled in
chunks by ``gankit sample``, and images; D calibrated on held-out rows, never training rows."""

import numpy as np
import pandas as pd
import pytest
import torch

import gankit
from gankit.api.run import Run
from gankit.cli import main
from gankit.evaluation.refine import RefineSettings, merge_costs, refine
from gankit.tasks.table import Table
from helpers import bars

FAST = {"log.eval_every": 30, "log.snapshot_every": 30, "log.checkpoint_every": 30, "train.batch_size": 60}


def small_table(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({"x": x, "y": x + 0.5 * rng.normal(size=n), "city": rng.choice(["a", "b", "c"], n),
                          "count": rng.poisson(5, n)})
    frame.loc[rng.random(n) < 0.1, "y"] = np.nan
    return frame


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refine-table")
    small_table().to_csv(folder / "t.csv", index=False)
    run = gankit.train(data=str(folder / "t.csv"), steps=30, out=folder / "run", progress=False,
                       figures=False, set=FAST)
    return run.path


def test_sample_refine_drs_writes_refined_rows_and_the_acceptance_line(table_run, tmp_path, capsys):
    plain, refined = tmp_path / "plain.csv", tmp_path / "refined.csv"
    assert main(["sample", str(table_run), "--n", "100", "--seed", "0", "--out", str(plain)]) == 0
    capsys.readouterr()
    assert main(["sample", str(table_run), "--n", "100", "--seed", "0", "--out", str(refined),
                 "--refine", "drs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"wrote 100 rows of 4 columns to {refined}"
    assert lines[1].startswith("  refined by drs (") and "acceptance rate" in lines[1]
    assert plain.read_bytes() != refined.read_bytes()  # the flag is no longer ignored
    rows = pd.read_csv(refined)
    assert list(rows.columns) == ["x", "y", "city", "count"] and len(rows) == 100
    expected, _ = Run.load(table_run).sample_refined(100, "drs", seed=0)
    pd.testing.assert_frame_equal(rows, pd.read_csv(_csv(expected, tmp_path / "expected.csv")))


def _csv(frame, path):
    frame.to_csv(path, index=False)
    return path


def test_sample_refine_mh_in_chunks_gives_each_chunk_its_own_seed(table_run, tmp_path, capsys, monkeypatch):
    one, many = tmp_path / "one.csv", tmp_path / "many.csv"
    flags = ["--seed", "3", "--refine", "mh", "--chain", "3"]
    assert main(["sample", str(table_run), "--n", "40", "--out", str(one), *flags]) == 0
    capsys.readouterr()
    monkeypatch.setattr(Table, "sample_chunk_rows", 40)  # as for a --n larger than a chunk
    calls = []
    real_refine = Run.sample_refined

    def counted(self, n, settings, seed=None, member=0, **asked):
        calls.append((n, seed))
        return real_refine(self, n, settings, seed, member, **asked)

    monkeypatch.setattr(Run, "sample_refined", counted)
    assert main(["sample", str(table_run), "--n", "100", "--out", str(many), *flags]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 2 and "refined by mh" in printed[1]
    assert [n for n, _ in calls] == [40, 40, 20] and len({seed for _, seed in calls}) == 3
    first, whole = one.read_text().splitlines(), many.read_text().splitlines()
    assert len(whole) == 101 and whole[:41] == first  # the first chunk is the 40-row sample


@pytest.mark.parametrize("refined", [False, True])
def test_the_chunks_of_a_large_sample_are_not_repeats(table_run, tmp_path, monkeypatch, refined):
    monkeypatch.setattr(Table, "sample_chunk_rows", 40)
    out = tmp_path / "s.csv"
    flags = ["--refine", "mh", "--chain", "2"] if refined else []
    assert main(["sample", str(table_run), "--n", "80", "--seed", "3", "--out", str(out), *flags]) == 0
    lines = out.read_text().splitlines()
    assert lines[1:41] != lines[41:81]


def test_costs_of_chunks_add_up():
    a = {"acceptance_rate": 0.5, "g_passes_per_sample": 4.0, "d_passes_per_sample": 6.0}
    b = {"acceptance_rate": 0.25, "g_passes_per_sample": 8.0, "d_passes_per_sample": 10.0}
    assert merge_costs([(10, a)], "drs") == a
    drs = merge_costs([(30, a), (10, b)], "drs")
    assert drs["acceptance_rate"] == pytest.approx(40 / (30 / 0.5 + 10 / 0.25))  # rows / proposals
    assert drs["g_passes_per_sample"] == pytest.approx((30 * 4 + 10 * 8) / 40)
    assert drs["d_passes_per_sample"] == pytest.approx((30 * 6 + 10 * 10) / 40)
    mh = merge_costs([(30, a), (10, b)], "mh")
    assert mh["acceptance_rate"] == pytest.approx((30 * 0.5 + 10 * 0.25) / 40)  # weighted by rows


def _rows(tensor):
    return {tuple(row) for row in np.asarray(tensor, dtype=np.float32).tolist()}


def test_calibration_and_mh_starts_read_held_out_rows_never_training_rows(table_run, monkeypatch):
    run = Run.load(table_run)
    task = run.task
    held_out, training = _rows(task.data.holdout_rows), _rows(task.data.train_rows)
    assert held_out and not held_out & training  # continuous columns: no row is in both
    drawn = []
    real_rows = type(task).calibration_rows

    def recorded(self, n, generator):
        rows = real_rows(self, n, generator)
        drawn.append(rows.cpu())
        return rows

    def never(self, n, generator):
        raise AssertionError("refinement drew training rows")

    monkeypatch.setattr(type(task), "calibration_rows", recorded)
    monkeypatch.setattr(type(task), "sample", never)
    for settings in (RefineSettings(method="mh", chain=2, calibrate="logistic", calibration_samples=150),
                     RefineSettings(burn_in=200, calibrate="isotonic", calibration_samples=150)):
        refine(run.trainer, 20, settings, seed=0)
    assert [len(rows) for rows in drawn] == [150, 20, 150]  # calibration, MH's starts, calibration
    for rows in drawn:
        assert _rows(rows) <= held_out
    m = len(task.data.holdout_rows)
    assert len(_rows(drawn[0][:m])) == m  # every held-out row once before any repeats


def test_a_tables_calibration_rows_are_seeded_draws_of_its_held_out_rows(table_run):
    task = Run.load(table_run).task
    a = task.calibration_rows(500, torch.Generator().manual_seed(1))
    b = task.calibration_rows(500, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)
    assert a.shape == (500, *task.shape) and a.dtype == torch.float32


def test_sample_refine_for_images_writes_refined_images_and_the_acceptance_line(tmp_path, capsys):
    np.save(tmp_path / "bars.npy", bars(200))
    tiny = {"model.options": {"width": 8}, "model.noise_dim": 16, "data.size": 8, "log.eval_every": 5,
            "log.snapshot_every": 5, "log.checkpoint_every": 5}
    run = gankit.train(data=str(tmp_path / "bars.npy"), steps=5, out=tmp_path / "run", progress=False,
                       figures=False, set=tiny)
    task = run.task
    held = task.images[len(task.train_index):]  # the held-out images, never trained on
    drawn = task.calibration_rows(len(held), torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(np.sort(task.decode(drawn).reshape(len(held), -1), axis=0),
                                  np.sort(held.reshape(len(held), -1), axis=0))
    capsys.readouterr()
    plain, refined = tmp_path / "plain.npy", tmp_path / "refined.npy"
    assert main(["sample", str(run.path), "--n", "20", "--seed", "0", "--out", str(plain)]) == 0
    assert main(["sample", str(run.path), "--n", "20", "--seed", "0", "--out", str(refined),
                 "--refine", "drs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "refined by drs" in lines[-1] and "acceptance rate" in lines[-1]
    assert np.load(refined).shape == (20, 8, 8) and np.load(refined).dtype == np.uint8
    assert not np.array_equal(np.load(plain), np.load(refined))
