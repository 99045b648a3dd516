import re

import numpy as np
import pytest
import torch

from gankit.core.errors import GankitError
from gankit.tasks import make_task
from gankit.tasks.base import RowSampler


def test_row_sampler_draws_each_row_once_per_epoch_across_batches():
    rows = torch.arange(10.0)[:, None]
    sampler = RowSampler(rows, torch.Generator().manual_seed(0))
    first_epoch = torch.cat([sampler.draw(4), sampler.draw(4), sampler.draw(2)]).flatten()
    assert sorted(first_epoch.tolist()) == list(range(10))
    second = torch.cat([sampler.draw(7), sampler.draw(3)]).flatten()
    assert sorted(second.tolist()) == list(range(10)) and not torch.equal(first_epoch, second)


def test_row_sampler_resumes_mid_epoch_exactly():
    rows = torch.randn(13, 2, 3)
    straight = RowSampler(rows, torch.Generator().manual_seed(1))
    straight.draw(5)
    saved = straight.state_dict()
    expected = torch.cat([straight.draw(6), straight.draw(9)])
    resumed = RowSampler(rows, torch.Generator().manual_seed(99))
    resumed.load_state_dict(saved)
    assert torch.equal(torch.cat([resumed.draw(6), resumed.draw(9)]), expected)


def test_built_in_tasks_have_a_shape_and_an_identity_decode():
    task = make_task("ring")
    assert task.shape == (2,) and task.preset == "ring"
    x = task.sample(5, torch.Generator().manual_seed(0))
    decoded = task.decode(x)
    assert isinstance(decoded, np.ndarray) and np.array_equal(decoded, x.numpy())
    assert make_task("parabola").shape == (15,)


def test_check_output_takes_npy_and_csv_files_and_images_also_a_folder(tmp_path):
    from gankit.tasks.images import Digits, ImageTask
    from gankit.tasks.parabola import Parabola

    for task_class in (Parabola, Digits):
        task_class.check_output(tmp_path / "x.npy", folder_form=False)
    Parabola.check_output(tmp_path / "x.csv", folder_form=False)
    Digits.check_output(tmp_path / "pngs", folder_form=True)
    refusals = [
        (Parabola, tmp_path / "x.txt", False, "--out must end in .npy or .csv, got 'x.txt'"),
        (Parabola, tmp_path / "no" / "x.npy", False, f"cannot write '{tmp_path / 'no' / 'x.npy'}': folder"),
        (Parabola, tmp_path / "pngs", True, "--out DIR/ writes PNG images, but this run's data ('parabola') "
                                            "are not images; use --out FILE.npy or FILE.csv"),
        (Digits, tmp_path / "x.csv", False, "images do not fit a CSV table; use --out DIR/ (PNG files)"),
        (Digits, tmp_path / "no" / "pngs", True, "folder '" + str(tmp_path / "no") + "' does not exist"),
        (ImageTask, tmp_path / "x.npy", True, "cannot write PNG files into"),
    ]
    (tmp_path / "x.npy").write_bytes(b"")  # a file where a folder was asked for
    for task_class, out, folder_form, message in refusals:
        with pytest.raises(GankitError, match=re.escape(message)):
            task_class.check_output(out, folder_form)


def test_write_samples_writes_npy_and_csv_with_the_tasks_column_names(tmp_path):
    parabola, ring = make_task("parabola", {"n_points": 3}), make_task("ring")
    curves = np.arange(6, dtype=np.float32).reshape(2, 3) / 3
    for name in ("c.npy", "c.csv"):
        line = parabola.write_samples([curves], tmp_path / name)
        assert line == f"wrote 2 samples of size 3 to {tmp_path / name}"
    assert np.array_equal(np.load(tmp_path / "c.npy"), curves)
    assert (tmp_path / "c.csv").read_text().splitlines() == [
        "y(x=-2),y(x=0),y(x=2)", "0,0.3333333,0.6666667", "1,1.333333,1.666667"]
    ring.write_samples([np.ones((2, 2)), np.zeros((1, 2))], tmp_path / "p.csv")  # chunks, one file
    assert (tmp_path / "p.csv").read_text() == "x0,x1\n1,1\n1,1\n0,0\n"
    assert parabola.column_names(2) == ["x0", "x1"]  # not the grid's length: plain coordinates
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_a_data_source_is_a_task_name_or_a_path_some_task_accepts(monkeypatch, tmp_path):
    from gankit.tasks import TASKS, data_source
    from gankit.tasks.parabola import Parabola

    class ReadsDat(Parabola):
        @classmethod
        def accepts(cls, source):
            return source.endswith(".dat")

    monkeypatch.setitem(TASKS._items, "dat", ReadsDat)
    assert data_source("ring") == ("ring", {})
    assert data_source("x/y.dat") == ("dat", {"path": "x/y.dat"})
    with pytest.raises(GankitError, match="no such file: 'x/y.png'"):
        data_source("x/y.png")
    (tmp_path / "y.png").write_bytes(b"not read by any dataset")
    with pytest.raises(GankitError, match="no dataset reads"):
        data_source(str(tmp_path / "y.png"))
    with pytest.raises(GankitError, match="no such file: 'x/y.csv'"):
        data_source("x/y.csv")  # a table file, named as missing before any reading
    assert data_source("rng") == ("rng", {})  # validation answers it with a did-you-mean
