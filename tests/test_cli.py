import json
import subprocess
import sys

import numpy as np
import pytest

from gankit.cli import main

SHORT = ["--preset", "seed", "--steps", "30", "--quiet", "--set", "log.eval_samples=1024",
         "--set", "log.eval_every=10", "--set", "log.snapshot_every=10"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", *SHORT, "--out", str(out)]) == 0
    return out


def test_train_writes_the_run_folder(run_dir, capsys):
    assert (run_dir / "config.toml").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["step"] == 30
    assert {"a_w1", "curve_rmse_median", "valid_fraction", "d_real_mean", "d_fake_mean"} <= set(summary)
    assert list((run_dir / "checkpoints").glob("step_*.pt"))
    figures = {p.name for p in (run_dir / "figures").iterdir()}
    assert {"final.png", "progress.png", "training.gif", "curves.png", "a_hist.png"} <= figures


def test_sample_writes_npy_and_csv(run_dir, tmp_path):
    assert main(["sample", str(run_dir), "--n", "7", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (7, 15)
    assert main(["sample", str(run_dir), "--n", "3", "--seed", "1", "--out", str(tmp_path / "s.csv")]) == 0
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].split(",")[:2] == ["y(x=-2)", "y(x=-1.71429)"]  # a header: where each value lies
    assert np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1).shape == (3, 15)


def test_eval_json_recomputes_the_summary_metrics(run_dir, capsys):
    assert main(["eval", str(run_dir), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("a_w1", "curve_rmse_median", "valid_fraction", "d_real_mean", "d_fake_mean"):
        assert printed[key] == pytest.approx(summary[key])


def test_plot_redraws(run_dir, capsys):
    (run_dir / "figures" / "final.png").unlink()
    assert main(["plot", str(run_dir)]) == 0
    assert (run_dir / "figures" / "final.png").exists()


@pytest.mark.parametrize("argv, message", [
    (["train", "--set", "train.loss=minmax"], "did you mean 'minimax'"),
    (["train", "--set", "train.lr_g=-1"], "train.lr_g must be positive"),
    (["train", "--config", "/nonexistent.toml"], "does not exist"),
    (["train", "--resume", "/nonexistent-run"], "does not exist"),
    (["eval", "/nonexistent-run"], "does not exist"),
    (["sample", "/nonexistent-run", "--out", "x.txt"], "must end in .npy or .csv"),
])
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_console_script_end_to_end(tmp_path):
    out = tmp_path / "run"
    result = subprocess.run([sys.executable, "-m", "gankit", "train", *SHORT, "--no-figures",
                             "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "a_w1" in result.stdout and str(out) in result.stdout
    again = subprocess.run([sys.executable, "-m", "gankit", "train", *SHORT, "--out", str(out)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "not empty" in again.stderr and "Traceback" not in again.stderr


def test_live_without_display_says_so_and_trains(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["train", *SHORT, "--no-figures", "--live", "--out", str(tmp_path / "r")]) == 0
    assert "needs a display" in capsys.readouterr().out


def test_several_seeds_in_one_run(tmp_path, capsys):
    out = tmp_path / "pop"
    assert main(["train", *SHORT, "--seeds", "3", "--seed", "5", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == 3 and 0 <= summary["success_share"] <= 1
    assert len(summary["member_values"]["a_w1"]) == 3
    assert summary["a_w1_min"] <= summary["a_w1"] <= summary["a_w1_max"]
    assert (out / "figures" / "members.png").exists()
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert len(rows[-1]["members"]["d_loss"]) == 3
    assert main(["sample", str(out), "--member", "2", "--n", "4", "--out", str(tmp_path / "m.npy")]) == 0
    assert main(["sample", str(out), "--member", "3", "--n", "4", "--out", str(tmp_path / "m.npy")]) == 2
    assert "member 3 does not exist" in capsys.readouterr().err
    assert main(["eval", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 members" in printed and "IQR" in printed


def test_theory_quick_writes_json_and_figures(tmp_path, capsys):
    assert main(["theory", "--quick", "--quiet", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "theory.json").read_text())
    assert {"optimal_discriminator", "value_of_game", "training"} <= set(result)
    assert len(list(tmp_path.glob("*.png"))) == 4
    assert "optimal discriminator" in capsys.readouterr().out


def test_eval_adds_sample_metrics_with_noise_floors(run_dir, capsys):
    assert main(["eval", str(run_dir), "--json", "--n", "600"]) == 0
    printed = json.loads(capsys.readouterr().out)
    for name in ("mmd_rbf", "sliced_w1", "precision", "recall", "density", "coverage"):
        assert name in printed and f"{name}_floor" in printed
    assert printed["sliced_w1"] > printed["sliced_w1_floor"]  # 30 steps is far from the data
    assert main(["eval", str(run_dir), "--json", "--task-only", "--n", "600"]) == 0
    assert "mmd_rbf" not in json.loads(capsys.readouterr().out)


def test_ring_run_draws_its_discriminator_and_mode_histogram(tmp_path):
    out = tmp_path / "ring"
    assert main(["train", "--data", "ring", "--steps", "20", "--quiet", "--out", str(out),
                 "--set", "log.eval_every=10"]) == 0
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"discriminator.png", "mode_hist.png", "training.gif", "final.png"} <= figures
    summary = json.loads((out / "summary.json").read_text())
    assert {"modes_covered", "hq_fraction", "reverse_kl"} <= set(summary)
