"""A table task's output checks and its writing of decoded rows, without a trained run."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gankit.core.errors import GankitError
from gankit.tasks import make_task
from gankit.tasks.table import Table


@pytest.fixture
def task(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": rng.normal(size=40).round(3), "k": rng.choice(["x", "y"], 40),
                  "n": rng.integers(0, 100, 40)}).to_csv(path, index=False)
    return make_task("table", {"path": str(path)})


@pytest.mark.parametrize("name, folder_form, message", [
    ("x.npy", False, "a table run writes .csv or .tsv files, got 'x.npy'"),
    ("rows", True, "a table run writes .csv or .tsv files, got 'rows'"),
    ("rows.csv", True, "a table run writes .csv or .tsv files, got 'rows.csv'"),  # a folder of that name
    ("missing/x.csv", False, "does not exist"),
])
def test_outputs_other_than_a_csv_or_tsv_file_are_refused(tmp_path, name, folder_form, message):
    with pytest.raises(GankitError, match=message) as caught:
        Table.check_output(tmp_path / name, folder_form)
    if name.startswith("missing/"):
        assert str(caught.value) == (f"cannot write '{tmp_path / name}': folder "
                                     f"'{tmp_path / 'missing'}' does not exist")


@pytest.mark.parametrize("name", ["x.csv", "x.TSV"])
def test_csv_and_tsv_files_are_accepted(tmp_path, name):
    Table.check_output(tmp_path / name, False)


def test_chunks_are_written_under_one_header_with_the_tables_types(task, tmp_path):
    chunks = [task.decode(task.train_rows[:10]), task.decode(task.train_rows[10:25])]
    out = tmp_path / "rows.csv"
    assert task.write_samples(iter(chunks), out) == f"wrote 25 rows of 3 columns to {out}"
    written = pd.read_csv(out)
    expected = pd.concat(chunks, ignore_index=True)
    assert list(written.columns) == ["a", "k", "n"] and written["n"].dtype == np.int64
    assert (written["k"] == expected["k"]).all() and (written["n"] == expected["n"]).all()
    np.testing.assert_allclose(written["a"], expected["a"])
    assert out.read_text().count("a,k,n") == 1


def test_a_failed_write_leaves_no_file(task, tmp_path):
    def chunks():
        yield task.decode(task.train_rows[:10])
        raise RuntimeError("generation failed")

    out = tmp_path / "rows.tsv"
    with pytest.raises(RuntimeError, match="generation failed"):
        task.write_samples(chunks(), out)
    assert list(tmp_path.iterdir()) == [tmp_path / "t.csv"]


def test_a_chunk_of_other_columns_is_refused(task, tmp_path):
    wrong = task.decode(task.train_rows[:5])[["k", "a", "n"]]
    with pytest.raises(ValueError, match="columns"):
        task.write_samples([wrong], tmp_path / "rows.csv")
    assert not Path(tmp_path / "rows.csv").exists()
