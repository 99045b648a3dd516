"""A run folder is the model: a table run and an image-folder run sample, refine and evaluate the
same rows with their source moved and then deleted, from the folder (``gankit sample``,
``gankit eval``, ``Run.load``) and from one exported file (``gankit export``, ``gankit.load``);
resuming needs the source and says so in one line; an exported file runs no code when loaded."""

import json
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

import gankit
from gankit.cli import main
from gankit.core.errors import GankitError
from gankit.store.rundir import jsonable
from gankit.tasks.saved import ARRAYS_FILE, STATE_FILE

QUICK = ["--quiet", "--no-figures"]


class _CreatesAFile:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def people(n=300, seed=0):
    """Text categories, whole numbers, numbers written with decimals, missing values, booleans;
    sorted by a category, as files often are."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    frame = pd.DataFrame({
        "species": rng.choice(["adelie", "gentoo", "chinstrap"], n),
        "bill_mm": (40 + 4 * x).round(1),
        "mass_g": (4000 + 600 * x + rng.normal(0, 200, n)).round(0).astype(int),
        "ratio": rng.lognormal(0, 0.5, n).round(3),
        "island": rng.choice(["biscoe", "dream", "torgersen"], n),
        "tagged": rng.random(n) < 0.4,
    })
    frame.loc[rng.random(n) < 0.1, "bill_mm"] = np.nan
    frame.loc[rng.random(n) < 0.05, "island"] = np.nan
    return frame.sort_values("species", kind="stable").reset_index(drop=True)


def _one_line_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def _same(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


def _outputs(run_dir, model, tmp, name, capsys, suffix):
    """What a user gets from the run folder and from the exported file, here and now."""
    out = tmp / f"{name}{suffix}"
    assert main(["sample", str(run_dir), "--n", "40", "--seed", "0", "--out", str(out)]) == 0
    capsys.readouterr()
    model_out = tmp / f"{name}_model{suffix}"
    assert main(["sample", str(model), "--n", "40", "--seed", "0", "--out", str(model_out)]) == 0
    capsys.readouterr()
    assert main(["eval", str(run_dir), "--json"]) == 0
    cli_eval = json.loads(capsys.readouterr().out)
    assert main(["eval", str(model), "--json"]) == 0
    model_eval = json.loads(capsys.readouterr().out)
    run = gankit.Run.load(run_dir)
    loaded = gankit.load(model)
    return {
        "cli_sample": out.read_bytes(),
        "cli_model_sample": model_out.read_bytes(),
        "cli_eval": cli_eval,
        "cli_model_eval": model_eval,
        "sample": run.sample(40, seed=0),
        "refined": run.sample(20, seed=1, refine="drs"),
        "evaluate": json.dumps(jsonable(run.evaluate(general=True))),
        "model_sample": loaded.sample(40, seed=0),
        "model_refined": loaded.sample(20, seed=1, refine="drs"),
        "model_evaluate": json.dumps(jsonable(loaded.evaluate(general=True))),
    }


def _check_portable(run_dir, source, tmp, capsys, suffix):
    model = tmp / "model.pt"
    assert main(["export", str(run_dir), str(model)]) == 0
    assert f"wrote {model}" in capsys.readouterr().out
    before = _outputs(run_dir, model, tmp, "before", capsys, suffix)
    _same(before["sample"], before["model_sample"])  # the exported file is the run
    _same(before["cli_sample"], before["cli_model_sample"])  # sample and eval read the file too
    assert before["cli_eval"] == before["cli_model_eval"]
    _same(before["refined"], before["model_refined"])
    assert before["evaluate"] == before["model_evaluate"]
    moved = source.with_name(source.name + "_moved")
    source.rename(moved)
    after_move = _outputs(run_dir, model, tmp, "moved", capsys, suffix)
    (shutil.rmtree if moved.is_dir() else lambda p: p.unlink())(moved)
    after_delete = _outputs(run_dir, model, tmp, "deleted", capsys, suffix)
    for key, value in before.items():
        _same(value, after_move[key])
        _same(value, after_delete[key])


# --- a table --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("portable_table")
    csv = root / "data" / "penguins.csv"
    csv.parent.mkdir()
    people().to_csv(csv, index=False)
    run_dir = root / "run"
    assert main(["train", "--data", str(csv), "--steps", "40", *QUICK, "--out", str(run_dir)]) == 0
    return root, csv, run_dir


def test_a_table_run_is_the_same_with_its_file_moved_then_deleted(tmp_path, capsys):
    source, run_dir = tmp_path / "penguins.csv", tmp_path / "run"
    people().to_csv(source, index=False)
    assert main(["train", "--data", str(source), "--steps", "30", *QUICK, "--out", str(run_dir)]) == 0
    _check_portable(run_dir, source, tmp_path, capsys, ".csv")
    frame = pd.read_csv(tmp_path / "deleted.csv")
    assert list(frame.columns) == list(people().columns)
    assert set(frame["species"]) <= {"adelie", "gentoo", "chinstrap"}


def test_a_balanced_table_run_is_the_same_with_its_file_moved_then_deleted(tmp_path, capsys):
    source, run_dir = tmp_path / "penguins.csv", tmp_path / "run"
    people().to_csv(source, index=False)
    assert main(["train", "--data", str(source), "--steps", "30", *QUICK, "--set", "data.balance=true",
                 "--out", str(run_dir)]) == 0
    assert "condition_counts" in json.loads((run_dir / STATE_FILE).read_text())["state"]
    _check_portable(run_dir, source, tmp_path, capsys, ".csv")


def test_a_table_run_on_request_is_the_same_with_its_file_moved_then_deleted(tmp_path, capsys):
    source, run_dir = tmp_path / "penguins.csv", tmp_path / "run"
    people().to_csv(source, index=False)
    assert main(["train", "--data", str(source), "--steps", "30", *QUICK, "--condition-on", "species",
                 "--out", str(run_dir)]) == 0
    before = gankit.Run.load(run_dir).sample(50, seed=0, condition={"species": "gentoo"})
    _check_portable(run_dir, source, tmp_path, capsys, ".csv")
    after = gankit.Run.load(run_dir).sample(50, seed=0, condition={"species": "gentoo"})
    pd.testing.assert_frame_equal(before, after)
    assert set(after["species"]) == {"gentoo"}


def test_the_run_folder_keeps_the_codec_and_rows_as_json_and_arrays(table_run):
    _, _, run_dir = table_run
    values = json.loads((run_dir / STATE_FILE).read_text())["state"]
    columns = {c["name"]: c for c in values["codec"]["columns"]}
    assert list(columns) == list(people().columns)
    assert columns["species"]["categories"] == ["adelie", "chinstrap", "gentoo"]
    assert columns["bill_mm"]["has_missing"] and columns["bill_mm"]["decimals"] == 1
    width = sum(c["width"] for c in columns.values())
    with np.load(run_dir / ARRAYS_FILE, allow_pickle=False) as arrays:
        shapes = {name: arrays[name].shape for name in arrays.files}
    assert (60, width) in shapes.values() and (240, width) in shapes.values()  # held out, training


def test_resume_needs_the_unchanged_file_and_says_so_in_one_line(table_run, tmp_path, capsys):
    root, csv, run_dir = table_run
    kept = tmp_path / "kept.csv"
    shutil.copy(csv, kept)
    try:
        csv.unlink()
        err = _one_line_error(capsys, ["train", "--resume", str(run_dir), "--steps", "50", *QUICK])
        assert f"table file '{csv}' does not exist" in err and "--resume" in err
        changed = pd.concat([pd.read_csv(kept), pd.read_csv(kept).iloc[:1]])
        changed.to_csv(csv, index=False)
        err = _one_line_error(capsys, ["train", "--resume", str(run_dir), "--steps", "50", *QUICK])
        assert "changed since this run was configured" in err
        assert main(["sample", str(run_dir), "--n", "5", "--out", str(tmp_path / "s.csv")]) == 0
    finally:
        shutil.copy(kept, csv)
    assert json.loads((run_dir / "summary.json").read_text())["step"] == 40  # nothing trained


def test_an_older_run_folder_reads_its_file_once_and_keeps_its_data(table_run, tmp_path, capsys):
    _, _, run_dir = table_run
    old = tmp_path / "old"
    shutil.copytree(run_dir, old)
    (old / STATE_FILE).unlink()
    (old / ARRAYS_FILE).unlink()
    expected = gankit.Run.load(run_dir).sample(30, seed=2)
    pd.testing.assert_frame_equal(gankit.Run.load(old).sample(30, seed=2), expected)  # from the file
    assert (old / STATE_FILE).is_file() and (old / ARRAYS_FILE).is_file()  # kept from now on
    assert (old / STATE_FILE).read_bytes() == (run_dir / STATE_FILE).read_bytes()
    assert (old / ARRAYS_FILE).read_bytes() == (run_dir / ARRAYS_FILE).read_bytes()


def test_saved_data_that_does_not_match_is_refused_in_one_line(table_run, tmp_path, capsys):
    _, _, run_dir = table_run
    torn = tmp_path / "torn"
    shutil.copytree(run_dir, torn)
    data = bytearray((torn / ARRAYS_FILE).read_bytes())
    data[-30] ^= 0xFF
    (torn / ARRAYS_FILE).write_bytes(bytes(data))
    err = _one_line_error(capsys, ["sample", str(torn), "--n", "5", "--out", str(tmp_path / "x.csv")])
    assert f"'{torn / ARRAYS_FILE}' is not the file" in err
    edited = tmp_path / "edited"
    shutil.copytree(run_dir, edited)
    values = json.loads((edited / STATE_FILE).read_text())
    values["state"]["params"]["holdout"] = 0.3
    (edited / STATE_FILE).write_text(json.dumps(values))
    err = _one_line_error(capsys, ["eval", str(edited)])
    assert "was made with data.holdout = 0.3, the config says 0.2" in err


def test_overwriting_a_table_run_with_another_dataset_leaves_no_saved_data(table_run, tmp_path):
    _, _, run_dir = table_run
    again = tmp_path / "again"
    shutil.copytree(run_dir, again)
    argv = ["train", "--preset", "seed", "--steps", "5", *QUICK, "--out", str(again), "--overwrite"]
    assert main(argv) == 0
    assert not (again / STATE_FILE).exists() and not (again / ARRAYS_FILE).exists()


# --- an image folder --------------------------------------------------------------------------

def test_an_image_folder_run_is_the_same_with_its_folder_moved_then_deleted(tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "pictures"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(80):
        image = np.zeros((8, 8), np.uint8)
        image[:, rng.integers(0, 8)] = 255
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    run_dir = tmp_path / "run"
    assert main(["train", "--data", f"{folder}/", "--set", "data.size=8", "--set", "data.holdout=0.5",
                 "--set", "model.options.width=8", "--steps", "4", *QUICK, "--out", str(run_dir)]) == 0
    _check_portable(run_dir, folder, tmp_path, capsys, ".npy")
    assert np.load(tmp_path / "deleted.npy").shape == (40, 8, 8)
    err = _one_line_error(capsys, ["train", "--resume", str(run_dir), "--steps", "6", *QUICK])
    assert "does not exist" in err
    assert main(["plot", str(run_dir)]) == 0  # nearest.png among them: the kept training images
    assert "nearest.png" in capsys.readouterr().out


# --- the exported file ------------------------------------------------------------------------

def test_a_loaded_model_has_no_folder_to_plot_and_keeps_the_summary(table_run, tmp_path):
    _, _, run_dir = table_run
    from gankit.api.artifact import export

    model = gankit.load(export(run_dir, tmp_path / "m.pt"))
    assert model.folder is None and model.path == tmp_path / "m.pt"
    assert model.summary == json.loads((run_dir / "summary.json").read_text())
    with pytest.raises(GankitError, match="plot needs a run folder"):
        model.plot()


def test_export_refuses_a_missing_folder_in_one_line(table_run, tmp_path, capsys):
    _, _, run_dir = table_run
    err = _one_line_error(capsys, ["export", str(run_dir), str(tmp_path / "no" / "m.pt")])
    assert "folder" in err and "does not exist" in err
    err = _one_line_error(capsys, ["export", str(tmp_path / "nothing"), str(tmp_path / "m.pt")])
    assert "does not exist" in err


@pytest.mark.parametrize("how", ["pickle", "torch.save"])
def test_loading_a_crafted_file_runs_no_code(tmp_path, how):
    evil, target = tmp_path / "model.pt", tmp_path / "pwned"
    payload = {"format": "gankit-model", "version": 1, "x": _CreatesAFile(str(target))}
    if how == "pickle":
        with open(evil, "wb") as handle:
            pickle.dump(payload, handle, protocol=2)
    else:
        torch.save(payload, evil)
    with pytest.raises(GankitError) as refused:
        gankit.load(evil)
    assert "refused" in str(refused.value) and "run code" in str(refused.value)
    assert len(str(refused.value).splitlines()) == 1
    assert not target.exists()


def test_a_file_that_is_no_model_is_named(tmp_path):
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(GankitError, match="is not a gankit model file"):
        gankit.load(other)
    with pytest.raises(GankitError, match="does not exist"):
        gankit.load(tmp_path / "missing.pt")
