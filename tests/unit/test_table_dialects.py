"""Tables as people write them (issue 26, item 1): separators, decimal commas, encodings,
compression, Parquet, and which strings are missing values. Tiny files made in tmp_path."""

import bz2
import gzip
import importlib.util
import io
import lzma
import zipfile

import numpy as np
import pandas as pd
import pytest

from gankit.core.errors import GankitError
from gankit.tasks import data_source, make_task
from gankit.tasks.saved import pack
from gankit.tasks.table import Table
from gankit.tasks.table_write import write_frames

ROWS = 24


def lines(sep, decimal=".", header=("size", "colour", "count")):
    """A small table's text: a number with two decimals, a category, a whole number."""
    rows = [sep.join(header)]
    for i in range(ROWS):
        size = f"{1.25 + i * 0.5:.2f}".replace(".", decimal)
        rows.append(sep.join([size, ["red", "green", "blue"][i % 3], str(100 + 7 * i)]))
    return "\n".join(rows) + "\n"


def table(tmp_path, name, text, charset="utf-8", **params):
    path = tmp_path / name
    path.write_bytes(text.encode(charset) if isinstance(text, str) else text)
    return make_task("table", {"path": str(path), **params})


def kinds(task):
    return {c.name: c.kind for c in task.codec.columns}


EXPECTED = {"size": "numeric", "colour": "categorical", "count": "integer"}


def test_semicolons_and_decimal_commas_are_sniffed_and_written_back(tmp_path):
    task = table(tmp_path, "eu.csv", lines(";", ","))
    assert kinds(task) == EXPECTED
    assert (task.dialect.sep, task.dialect.decimal) == (";", ",")
    assert "semicolon-separated, decimal mark ','" in task.describe()
    back = task.decode(task.train_rows[:5])
    assert back["size"].dtype == np.float64 and back["size"].min() >= 1.25
    out = tmp_path / "sample.csv"
    task.write_samples([back], out)
    text = out.read_text().splitlines()
    assert text[0] == "size;colour;count" and "," in text[1].split(";")[0]  # 1,75 as the file writes it


@pytest.mark.parametrize("sep, name", [("\t", "tabs.csv"), ("|", "pipes.csv"), ("\t", "tabs.tsv")])
def test_tabs_and_pipes_are_sniffed(tmp_path, sep, name):
    task = table(tmp_path, name, lines(sep))
    assert kinds(task) == EXPECTED and task.dialect.sep == sep


def test_the_separator_and_decimal_mark_can_be_named(tmp_path):
    text = lines(";", ",")
    task = table(tmp_path, "named.csv", text, sep=";", decimal=",")
    assert kinds(task) == EXPECTED
    task = table(tmp_path, "tab.csv", lines("\t"), sep="tab")  # --set data.sep=tab
    assert task.sep == "\t" and kinds(task) == EXPECTED
    with pytest.raises(GankitError, match="data.decimal must be"):
        table(tmp_path, "bad.csv", text, decimal=";")
    with pytest.raises(GankitError, match="data.sep must be one character"):
        table(tmp_path, "bad.csv", text, sep=";;")
    with pytest.raises(GankitError, match="line 2 has 1 fields.*data.sep"):  # a wrong separator is named
        table(tmp_path, "wrong.csv", "a,b\n" + "1;2\n" * 12, sep=",")


def test_latin1_is_read_with_data_encoding_and_named_without(tmp_path):
    text = "name,count\n" + "".join(f"{['café', 'crème', 'thé'][i % 3]},{i}\n" for i in range(ROWS))
    with pytest.raises(GankitError, match="not UTF-8.*--set data.encoding=latin-1"):
        table(tmp_path, "latin.csv", text, "latin-1")
    task = table(tmp_path, "latin.csv", text, "latin-1", encoding="latin-1")
    assert next(c for c in task.codec.columns if c.name == "name").categories == ["café", "crème", "thé"]
    with pytest.raises(GankitError, match="data.encoding 'latin-9000' is not an encoding"):
        table(tmp_path, "latin.csv", text, "latin-1", encoding="latin-9000")


@pytest.mark.parametrize("bom, encoding, sep", [(b"\xef\xbb\xbf", "utf-8", ";"), (b"", "utf-16", "\t")])
def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path, bom, encoding, sep):
    """Excel's 'CSV UTF-8' (semicolons where the decimal mark is a comma) and 'Unicode text'
    (UTF-16 with its mark, tab-separated)."""
    task = table(tmp_path, "excel.csv", bom + lines(sep, "," if sep == ";" else ".").encode(encoding))
    assert kinds(task) == EXPECTED


COMPRESS = {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_compressed_files_read_as_the_plain_file(tmp_path, suffix):
    plain = table(tmp_path, "plain.csv", lines(";", ","))
    path = tmp_path / f"table.csv{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("table.csv", lines(";", ","))
    else:
        path.write_bytes(COMPRESS[suffix](lines(";", ",").encode()))
    assert Table.accepts(str(path)) and data_source(str(path)) == ("table", {"path": str(path)})
    task = make_task("table", {"path": str(path)})
    assert pack({"codec": task.codec.to_dict()}) == pack({"codec": plain.codec.to_dict()})
    np.testing.assert_array_equal(task.data.train_rows, plain.data.train_rows)


def test_a_zip_of_several_files_is_refused(tmp_path):
    path = tmp_path / "two.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", lines(","))
        archive.writestr("b.csv", lines(","))
    with pytest.raises(GankitError, match="must hold one table file, it holds 2"):
        make_task("table", {"path": str(path)})


PYARROW = importlib.util.find_spec("pyarrow") is not None


@pytest.mark.skipif(PYARROW, reason="pyarrow is installed: the message for its absence cannot show")
def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 not read")
    assert Table.accepts(str(path))
    with pytest.raises(GankitError, match=r"needs pyarrow: pip install 'gankit\[parquet\]'"):
        make_task("table", {"path": str(path)})


@pytest.mark.skipif(not PYARROW, reason="pyarrow is not installed (pip install 'gankit[parquet]')")
def test_parquet_is_read(tmp_path):
    frame = pd.read_csv(io.StringIO(lines(",")))
    frame.to_parquet(tmp_path / "t.parquet")
    assert kinds(make_task("table", {"path": str(tmp_path / "t.parquet")})) == EXPECTED


def na_table():
    rows = ["region,label,amount"]
    for i in range(ROWS):
        amount = "NA" if i % 6 == 0 else str(10 + i)  # R's missing number
        rows.append(f"{['NA', 'EU', 'None', ''][i % 4]},{['x', 'y'][i % 2]},{amount}")
    return "\n".join(rows) + "\n"


def test_na_and_none_stay_text_unless_listed(tmp_path):
    task = table(tmp_path, "na.csv", na_table())
    region = next(c for c in task.codec.columns if c.name == "region")
    assert region.categories == ["EU", "NA", "None"] and region.missing == ROWS // 4  # empty fields
    amount = next(c for c in task.codec.columns if c.name == "amount")
    assert amount.kind == "integer" and amount.missing == ROWS // 6  # 'NA' among numbers is missing
    task = table(tmp_path, "na.csv", na_table(), na_values="[NA,None]")  # --set data.na_values=[NA,None]
    region = next(c for c in task.codec.columns if c.name == "region")
    assert region.categories == ["EU"] and region.missing == 3 * ROWS // 4


def test_reading_settings_reach_the_config_and_the_sample_keeps_the_dialect(tmp_path):
    """A 2-step run through the command: --set reaches data.*, config.toml records it, and the
    sample, read from the run folder after the file is gone, is written as the file was."""
    import tomllib

    from gankit.cli import main

    path = tmp_path / "eu.csv.gz"
    path.write_bytes(gzip.compress(lines(";", ",").encode()))
    run = tmp_path / "run"
    assert main(["train", "--data", str(path), "--steps", "2", "--out", str(run), "--no-figures", "--quiet",
                 "--set", "data.na_values=[n.a.]", "--set", "data.types.count=number",
                 "--set", "train.batch_size=10", "--set", "log.eval_samples=20"]) == 0
    data = tomllib.loads((run / "config.toml").read_text())["data"]
    assert data["na_values"] == ["n.a."] and data["types"] == {"count": "number"} and data["sep"] == ""
    path.unlink()  # the run folder is the model: the dialect comes back with it
    out = tmp_path / "s.csv"
    assert main(["sample", str(run), "--n", "10", "--out", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "size;colour;count" and len(rows) == 11 and "," in rows[1].split(";")[0]


def test_the_writer_uses_the_dialect_and_never_a_separator_equal_to_the_decimal_mark(tmp_path):
    from gankit.tasks.table_io import Dialect

    frame = pd.DataFrame({"a": [1.5, 2.25], "b": ["x", "y"]})
    write_frames([frame], tmp_path / "a.csv", ["a", "b"], Dialect("\t", ","))
    assert (tmp_path / "a.csv").read_text().splitlines() == ["a;b", "1,5;x", "2,25;y"]
    write_frames([frame], tmp_path / "a.tsv", ["a", "b"], Dialect(";", ","))
    assert (tmp_path / "a.tsv").read_text().splitlines()[1] == "1,5\tx"
