"""Data in memory: ``gankit.train(data=frame_or_array)`` and ``gankit.Synthesizer``, through the
same run folder and loop as a file (the data are kept in the folder as dataframe.csv/array.npy)."""

import importlib.util
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

import gankit
from gankit.api.run import Run
from gankit.api.training import resume
from gankit.core.errors import GankitError
from gankit.store.checkpoint import open_latest
from helpers import bars

QUIET = {"progress": False, "figures": False}
FAST = {"log.eval_every": 30, "log.snapshot_every": 30, "log.checkpoint_every": 30, "train.batch_size": 60}
IMAGES = {"model.options": {"width": 8}, "model.noise_dim": 16, "data.size": 8, "log.eval_every": 5,
          "log.snapshot_every": 5, "log.checkpoint_every": 5}
HAS_ARTIFACT = importlib.util.find_spec("gankit.api.artifact") is not None


def frame(n=300, seed=0):
    """A few hundred rows: numbers with missing values, a category, counts."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    data = pd.DataFrame({"x": x, "y": 0.8 * x + 0.6 * rng.normal(size=n),
                         "city": rng.choice(["a", "b", "c"], n), "count": rng.poisson(6, n)})
    data.loc[rng.random(n) < 0.1, "y"] = np.nan
    return data


def _tensors(run_path):
    state = open_latest(run_path / "checkpoints")["trainer"]
    return {f"{part}.{key}": value for part in ("generator", "discriminator", "ema_generator")
            for key, value in (state.get(part) or {}).items()}


def _numbers(summary):
    """A summary's metrics, less the clock's."""
    return {k: v for k, v in summary.items()
            if isinstance(v, float) and "elapsed" not in k and "second" not in k}


def test_a_dataframe_and_the_csv_written_from_it_train_to_identical_weights(tmp_path):
    data = frame()
    data.to_csv(tmp_path / "t.csv", index=False)
    from_file = gankit.train(data=str(tmp_path / "t.csv"), steps=30, out=tmp_path / "file", set=FAST, **QUIET)
    from_frame = gankit.train(data=data, steps=30, out=tmp_path / "frame", set=FAST, **QUIET)
    kept = tmp_path / "frame" / "dataframe.csv"
    assert kept.read_bytes() == (tmp_path / "t.csv").read_bytes()  # df.to_csv(index=False), byte for byte
    assert from_frame.config.data.params["path"] == str(kept.resolve())
    assert from_frame.config.data.params["fingerprint"] == from_file.config.data.params["fingerprint"]
    a, b = _tensors(from_file.path), _tensors(from_frame.path)
    assert a.keys() == b.keys() and len(a) > 0
    for key in a:
        assert torch.equal(a[key], b[key]), key
    pd.testing.assert_frame_equal(from_file.sample(50, seed=1), from_frame.sample(50, seed=1))
    assert _numbers(from_frame.summary) == _numbers(from_file.summary)
    # The run folder is the run: read back, resumed, from the file it keeps.
    pd.testing.assert_frame_equal(Run.load(from_frame.path).sample(20, seed=2), from_frame.sample(20, seed=2))
    assert resume(from_frame.path, steps=40, **QUIET).summary["step"] == 40


def test_a_2d_array_trains_as_a_table_and_a_uint8_array_as_images(tmp_path):
    rows = np.random.default_rng(0).normal(size=(200, 3))
    table = gankit.train(data=rows, steps=5, out=tmp_path / "table", set=FAST, **QUIET)
    assert table.task.name == "table" and (tmp_path / "table" / "array.npy").is_file()
    assert list(table.sample(4, seed=0).columns) == ["x0", "x1", "x2"]
    np.testing.assert_array_equal(np.load(tmp_path / "table" / "array.npy"), rows)
    images = gankit.train(data=bars(200), steps=5, out=tmp_path / "images", set=IMAGES, **QUIET)
    assert images.task.name == "images" and images.task.shape == (1, 8, 8)
    sample = images.sample(3, seed=0)
    assert sample.shape == (3, 8, 8) and sample.dtype == np.uint8


@pytest.mark.parametrize(("data", "message"), [
    ([1.0, 2.0], "data must be a dataset name, a file or folder path, a pandas DataFrame or a NumPy "
                 "array, got a list"),
    ({"x": [1.0, 2.0]}, "got a dict"),
    (np.arange(50.0), "a NumPy array must be 2-D (a table: rows x columns) or 3-D/4-D (images [N, H, W] "
                      "or [N, H, W, C]), got shape (50,)"),
    (np.array([["a", "b"]] * 20), "a NumPy array must hold numbers, got dtype <U1; for a table with text "
                                  "columns pass a pandas DataFrame"),
    (np.zeros((0, 3)), "the array holds no rows"),
    (pd.Series([1.0, 2.0]), "got a pandas.Series; pass series.to_frame()"),
    (torch.zeros(20, 2), "got a torch.Tensor; pass tensor.cpu().numpy()"),
    (pd.DataFrame({"x": np.arange(5.0)}), "the DataFrame has 5 row(s); a table needs at least 10"),
])
def test_bad_data_get_one_clear_line_and_leave_nothing(data, message, tmp_path):
    with pytest.raises(GankitError) as caught:
        gankit.train(data=data, steps=5, out=tmp_path / "run", **QUIET)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "gankit-data-" not in str(caught.value)  # the temporary file is never named
    assert not (tmp_path / "run").exists()


def test_a_refused_setting_makes_no_folder(tmp_path):
    with pytest.raises(GankitError, match="must be a multiple of model.pack"):
        gankit.train(data=frame(), steps=5, out=tmp_path / "run", set={"train.batch_size": 64}, **QUIET)
    assert not (tmp_path / "run").exists()


def test_an_occupied_folder_is_refused_and_overwrite_replaces_the_data(tmp_path):
    out = tmp_path / "run"
    gankit.train(data=frame(), steps=5, out=out, set=FAST, **QUIET)
    before = (out / "dataframe.csv").read_bytes()
    with pytest.raises(GankitError, match="is not empty"):
        gankit.train(data=frame(seed=1), steps=5, out=out, set=FAST, **QUIET)
    assert (out / "dataframe.csv").read_bytes() == before  # the refused run wrote nothing
    rows = np.random.default_rng(0).normal(size=(100, 2))
    run = gankit.train(data=rows, steps=5, out=out, overwrite=True, set=FAST, **QUIET)
    assert run.task.name == "table" and (out / "array.npy").is_file()
    assert not (out / "dataframe.csv").exists()  # the replaced run's data went with it
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(GankitError, match="holds no gankit run"):
        gankit.train(data=frame(), steps=5, out=other, overwrite=True, **QUIET)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_a_failed_copy_leaves_no_torn_data_file(tmp_path, monkeypatch):
    real_copy = shutil.copyfileobj

    def broken(source, target, length=0):
        target.write(source.read(100))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copyfileobj", broken)
    with pytest.raises(GankitError, match="No space left on device"):
        gankit.train(data=frame(), steps=5, out=tmp_path / "run", **QUIET)
    monkeypatch.setattr(shutil, "copyfileobj", real_copy)
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.startswith((".dataframe", "dataframe"))]


def test_synthesizer_fits_samples_and_refines(tmp_path):
    synth = gankit.Synthesizer(out=tmp_path / "run", steps=30, set=FAST, progress=False)
    assert repr(synth) == "Synthesizer(not fitted)"
    with pytest.raises(GankitError, match=r"call fit\(data\) first"):
        synth.sample(5)
    assert synth.fit(frame()) is synth and isinstance(synth.run, Run)
    assert not list((tmp_path / "run" / "figures").glob("*.png"))  # no figures unless asked for
    rows = synth.sample(40, seed=0)
    assert isinstance(rows, pd.DataFrame) and list(rows.columns) == ["x", "y", "city", "count"]
    pd.testing.assert_frame_equal(rows, synth.sample(40, seed=0))
    refined = synth.sample(40, seed=0, refine="drs")
    assert len(refined) == 40 and not refined.equals(rows)
    with pytest.raises(GankitError, match="n must be a whole number of at least 1"):
        synth.sample(0)
    with pytest.raises(TypeError, match="fit"):
        gankit.Synthesizer(data=frame())


def test_synthesizer_fits_images(tmp_path):
    synth = gankit.Synthesizer(out=tmp_path / "run", steps=5, set=IMAGES, progress=False).fit(bars(200))
    assert synth.sample(6, seed=1).shape == (6, 8, 8)


@pytest.mark.skipif(not HAS_ARTIFACT, reason="needs gankit.api.artifact")
def test_synthesizer_saves_and_loads_one_file(tmp_path):
    synth = gankit.Synthesizer(out=tmp_path / "run", steps=30, set=FAST, progress=False).fit(frame())
    expected = synth.sample(30, seed=4)
    file = synth.save(tmp_path / "model.gankit")
    assert file.is_file()
    shutil.rmtree(tmp_path / "run")  # the file alone: no run folder, no training data
    again = gankit.Synthesizer.load(file)
    assert isinstance(again.run, Run)
    pd.testing.assert_frame_equal(again.sample(30, seed=4), expected)
