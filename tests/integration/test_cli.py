import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gankit.cli import main
from gankit.core.errors import GankitError

SHORT = ["--preset", "seed", "--steps", "30", "--quiet", "--set", "log.eval_samples=1024",
         "--set", "log.eval_every=10", "--set", "log.snapshot_every=10"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", *SHORT, "--wait-figures", "--out", str(out)]) == 0
    return out


def test_train_writes_the_run_folder(run_dir, capsys):
    assert (run_dir / "config.toml").exists()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["step"] == 30
    assert {"a_w1", "curve_rmse_median", "valid_fraction", "d_real_mean", "d_fake_mean"} <= set(summary)
    assert list((run_dir / "checkpoints").glob("step_*.pt"))
    figures = {p.name for p in (run_dir / "figures").iterdir()}
    assert {"final.png", "progress.png", "training.gif", "curves.png", "a_hist.png"} <= figures


def test_figures_are_drawn_in_the_background_by_default(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *SHORT, "--out", str(out)]) == 0
    assert "being drawn in the background" in capsys.readouterr().out
    log = out / "figures" / "plot.log"
    deadline = time.monotonic() + 120
    while "curves.png" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    drawn = {Path(line).name for line in log.read_text().splitlines()}
    assert {"final.png", "progress.png", "training.gif", "curves.png", "a_hist.png"} <= drawn
    assert all((out / "figures" / name).stat().st_size > 0 for name in drawn)


def test_sample_writes_npy_and_csv(run_dir, tmp_path):
    assert main(["sample", str(run_dir), "--n", "7", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (7, 15)
    assert main(["sample", str(run_dir), "--n", "3", "--seed", "1", "--out", str(tmp_path / "s.csv")]) == 0
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].split(",")[:2] == ["y(x=-2)", "y(x=-1.71429)"]  # a header: where each value lies
    assert np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1).shape == (3, 15)


def test_sample_refuses_a_bad_out_before_loading_the_run(run_dir, tmp_path, monkeypatch, capsys):
    from gankit.api.run import Run

    def never(*args, **kwargs):
        raise AssertionError("the run was loaded before --out was checked")

    monkeypatch.setattr(Run, "load", never)
    for out, message in ((tmp_path / "x.txt", "--out must end in .npy or .csv, got 'x.txt'"),
                         (tmp_path / "no" / "x.npy", f"folder '{tmp_path / 'no'}' does not exist"),
                         (f"{tmp_path / 'pngs'}/", "this run's data ('parabola') are not images")):
        assert main(["sample", str(run_dir), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "pngs").exists()


def test_sample_refined_writes_the_refined_points_and_their_cost(run_dir, tmp_path, capsys):
    from gankit.api.run import Run

    out = tmp_path / "r.npy"
    assert main(["sample", str(run_dir), "--n", "32", "--seed", "2", "--out", str(out),
                 "--refine", "drs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"wrote 32 samples of size 15 to {out}" and "acceptance rate" in lines[1]
    refined, _ = Run.load(run_dir).sample_refined(32, "drs", seed=2)
    np.testing.assert_array_equal(np.load(out), refined)


def test_sample_chunks_are_the_whole_sample_or_pieces_with_their_own_seeds(run_dir):
    from gankit.api.run import Run, chunk_seed

    run = Run.load(run_dir)
    (whole,) = run.sample_chunks(7, seed=1)
    np.testing.assert_array_equal(whole, run.sample(7, seed=1))
    run.task.sample_chunk_rows = 3  # as a task whose decoded rows are heavy sets it
    chunks = list(run.sample_chunks(7, seed=1))
    assert [len(c) for c in chunks] == [3, 3, 1]
    np.testing.assert_array_equal(chunks[0], run.sample(3, seed=1))  # a file starts as sample() does
    np.testing.assert_array_equal(chunks[2], run.sample(1, seed=chunk_seed(1, 2)))
    assert chunk_seed(None, 5) is None and chunk_seed(1, 1) != 1


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
    (["sample", "/nonexistent-run", "--out", "x.txt"], "run folder '/nonexistent-run' does not exist"),
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
    assert main(["train", *SHORT, "--seeds", "3", "--seed", "5", "--wait-figures", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == 3 and 0 <= summary["success_share"] <= 1
    assert len(summary["members"]["a_w1"]) == 3
    assert min(summary["members"]["a_w1"]) <= summary["a_w1"] <= max(summary["members"]["a_w1"])
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
    assert main(["train", "--data", "ring", "--steps", "20", "--quiet", "--wait-figures", "--out", str(out),
                 "--set", "log.eval_every=10"]) == 0
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"discriminator.png", "mode_hist.png", "training.gif", "final.png"} <= figures
    summary = json.loads((out / "summary.json").read_text())
    assert {"modes_covered", "hq_fraction", "reverse_kl"} <= set(summary)


# --- every flag and every gankit.train keyword reaches the config, generated from the parser ---

# Flags of ``train`` that are not config settings (how to run, where settings come from); every
# other flag the parser has must be a shortcut that lands in config.toml.
NOT_SETTINGS = {"help", "debug", "preset", "config", "set", "resume", "dry_run", "live", "quiet",
                "out", "overwrite", "no_figures", "wait_figures"}
# A second valid value for each string-typed key (numbers and lists are derived from the default).
OTHER_STRINGS = {"data.name": "ring", "model.activation": "tanh", "train.loss": "hinge",
                 "device": "cuda:0", "train.on_divergence": "rollback", "name": "renamed"}
OTHER_NAME_LISTS = {"data.condition": ["a"]}  # lists of names, not of numbers


def _train_actions():
    from gankit.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["train"]
    return [a for a in sub._actions if a.dest not in NOT_SETTINGS]


def _lookup(config: dict, dotted: str):
    for part in dotted.split("."):
        config = config[part]
    return config


def _other_value(dotted: str, default):
    """A valid value different from the preset's, as Python value and as flag text."""
    if isinstance(default, bool):
        return not default, str(not default).lower()
    if isinstance(default, str) or dotted in OTHER_STRINGS:
        assert dotted in OTHER_STRINGS, f"add a second value for the new string setting {dotted}"
        return OTHER_STRINGS[dotted], OTHER_STRINGS[dotted]
    if dotted in OTHER_NAME_LISTS:
        return OTHER_NAME_LISTS[dotted], ",".join(OTHER_NAME_LISTS[dotted])
    if isinstance(default, list):
        return [7, 9], "7,9"
    if isinstance(default, float):
        return default / 2, repr(default / 2)
    return default + 3, str(default + 3)


def _dry_run(argv, capsys):
    import tomllib

    capsys.readouterr()
    assert main(["train", *argv, "--dry-run"]) == 0
    return tomllib.loads(capsys.readouterr().out)


def test_every_train_flag_is_a_shortcut_and_reaches_config_toml(capsys, tmp_path):
    from gankit.config import SHORTCUTS

    by_name = {s.name: s for s in SHORTCUTS}
    base = _dry_run([], capsys)
    for action in _train_actions():
        assert action.dest in by_name, f"{action.option_strings} is neither a shortcut nor listed"
        shortcut = by_name[action.dest]
        default = _lookup(base, shortcut.keys[0])
        value, text = _other_value(shortcut.keys[0], default)
        written = _dry_run([action.option_strings[0], text], capsys)
        for key in shortcut.keys:
            assert _lookup(written, key) == value, (action.option_strings[0], key)
    assert not list(tmp_path.iterdir())  # --dry-run wrote nothing


class _Built(Exception):
    def __init__(self, config):
        self.config = config


def _config_of_train(monkeypatch, **settings):
    """The config gankit.train builds from ``settings``, caught before anything trains."""
    import gankit
    import gankit.api.training

    def capture(config, team=None):
        raise _Built(config)

    monkeypatch.setattr(gankit.api.training.Trainer, "from_config", capture)
    with pytest.raises(_Built) as built:
        gankit.train(**settings)
    return built.value.config.to_dict()


def test_every_train_keyword_reaches_the_config(monkeypatch):
    import inspect

    import gankit
    from gankit.config import SHORTCUTS
    from gankit.config.resolve import resolve_config

    # gankit.train takes its settings as **settings: the keywords are exactly the table's.
    assert inspect.signature(gankit.train).parameters["settings"].kind is inspect.Parameter.VAR_KEYWORD
    base = resolve_config().to_dict()
    for shortcut in SHORTCUTS:
        value, _ = _other_value(shortcut.keys[0], _lookup(base, shortcut.keys[0]))
        config = _config_of_train(monkeypatch, **{shortcut.name: value})
        for key in shortcut.keys:
            assert _lookup(config, key) == value, (shortcut.name, key)


def _bad_value(dotted: str, default):
    if isinstance(default, list):
        return [0], "0"
    if isinstance(default, str):
        return "no/such", "no/such"
    return -1, "-1"


def test_invalid_values_are_refused_alike_by_flag_set_and_keyword(monkeypatch, capsys):
    from gankit.config import SHORTCUTS
    from gankit.config.resolve import resolve_config

    base = resolve_config().to_dict()
    for shortcut in SHORTCUTS:
        key = shortcut.keys[0]
        value, text = _bad_value(key, _lookup(base, key))
        capsys.readouterr()
        assert main(["train", shortcut.flag, text, "--dry-run"]) == 2, shortcut.flag
        by_flag = capsys.readouterr().err.strip()
        assert main(["train", "--set", f"{key}={text}", "--dry-run"]) == 2, key
        by_set = capsys.readouterr().err.strip()
        with pytest.raises(GankitError) as by_keyword:
            _config_of_train(monkeypatch, **{shortcut.name: value})
        assert by_flag == by_set == f"gankit: error: {by_keyword.value}", shortcut.name
        assert "\n" not in by_flag


def test_lr_sets_both_rates_and_an_explicit_rate_wins(capsys):
    both = _dry_run(["--loss", "minimax", "--lr", "2e-4", "--steps", "50"], capsys)["train"]
    assert (both["lr_g"], both["lr_d"], both["loss"], both["steps"]) == (2e-4, 2e-4, "minimax", 50)
    mixed = _dry_run(["--lr-g", "1e-3", "--lr", "2e-4"], capsys)["train"]  # order on the line is moot
    assert (mixed["lr_g"], mixed["lr_d"]) == (1e-3, 2e-4)


def test_defaults_follow_the_data_and_an_explicit_preset_wins(capsys):
    by_data = _dry_run(["--data", "ring"], capsys)
    by_preset = _dry_run(["--preset", "ring"], capsys)
    by_data.pop("name"), by_preset.pop("name")
    assert by_data == by_preset
    assert by_data["train"]["r1"] == 0.1  # the ring preset, not the curve task's default
    explicit = _dry_run(["--data", "ring", "--preset", "default"], capsys)
    assert explicit["data"]["name"] == "ring" and explicit["train"]["r1"] == 0.0


def test_mistyped_flag_gets_a_did_you_mean(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--stpes", "5"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "did you mean '--steps'" in err and err.count("\n") == 1


def test_list_settings_take_the_comma_form_and_errors_show_brackets(capsys):
    assert _dry_run(["--set", "model.g_hidden=256,256"], capsys)["model"]["g_hidden"] == [256, 256]
    assert main(["train", "--set", "model.g_hidden=wide", "--dry-run"]) == 2
    assert "model.g_hidden=[256,256]" in capsys.readouterr().err


def test_help_is_grouped_with_presets_and_examples(capsys):
    from gankit.config import PRESETS

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for section in ("data:", "model:", "training:", "logging:", "output:", "examples:"):
        assert f"\n{section}\n" in out
    for name in PRESETS:
        assert f"\n  {name} " in out


def test_resume_refuses_config_flags_and_counts_its_own_steps(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *SHORT, "--no-figures", "--out", str(out)]) == 0
    assert main(["train", "--resume", str(out), "--loss", "hinge", "--lr", "1e-3"]) == 2
    assert "--loss, --lr cannot be changed" in capsys.readouterr().err
    assert main(["train", "--resume", str(out), "--steps", "40", "--quiet", "--no-figures"]) == 0
    assert "trained 10 steps (now at step 40)" in capsys.readouterr().out


def test_resume_of_a_scheduled_run_says_how_to_train_longer(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *SHORT, "--no-figures", "--set", "train.lr_schedule=linear",
                 "--out", str(out)]) == 0
    assert main(["train", "--resume", str(out), "--steps", "60"]) == 2
    err = capsys.readouterr().err
    assert f"gankit train --config {out / 'config.toml'} --steps 60 --out NEW_DIR" in err


def test_import_gankit_loads_neither_torch_nor_matplotlib():
    code = "import sys, gankit, gankit.cli; print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_the_api_names_stay_the_functions_after_importing_every_module():
    code = ("import pkgutil, importlib, gankit; "
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(gankit.__path__, 'gankit.') "
            "if not m.name.endswith('__main__')]; "
            "print(*[getattr(gankit, n).__module__ for n in ('train', 'resume', 'compare', 'report', "
            "'list_runs', 'run_theory', 'Run', 'grid_variants')])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["gankit.api.training", "gankit.api.training", "gankit.api.comparison",
                                   "gankit.api.reporting", "gankit.store.runs", "gankit.api.theory",
                                   "gankit.api.run", "gankit.api.comparison"]


def test_a_closed_pipe_ends_the_command_quietly():
    read, write = os.pipe()
    child = subprocess.Popen([sys.executable, "-m", "gankit", "train", "--dry-run"], stdout=write,
                             stderr=subprocess.PIPE, text=True)
    os.close(write)
    os.close(read)  # the reader is gone before the command prints anything
    _, err = child.communicate(timeout=120)
    assert child.returncode == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err
