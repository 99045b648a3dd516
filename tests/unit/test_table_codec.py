"""The table codec kept as JSON plus arrays (what a run folder and an exported model hold): a
codec read back encodes and decodes exactly as the fitted one; and the saved-state files."""

import json

import numpy as np
import pandas as pd
import pytest

from gankit.core.errors import GankitError
from gankit.tasks.saved import (
    ARRAYS_FILE,
    STATE_FILE,
    join_arrays,
    read_saved,
    split_arrays,
    write_saved,
)
from gankit.tasks.table_codec import TableCodec


def mixed(n=200, seed=0):
    """Text categories, integers, floats with decimals, missing values, booleans, a small
    whole-number code, a constant column and an all-missing one."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "city": rng.choice(["oslo", "lima", "pune", "x y, z"], n),
        "count": rng.poisson(40, n),
        "length": rng.normal(5, 2, n).round(2),
        "weight": rng.lognormal(0, 1, n),  # many decimals: not rounded
        "flag": rng.random(n) < 0.3,
        "rating": rng.integers(1, 6, n),
        "const": np.full(n, 7),
        "empty": np.full(n, np.nan),
    })
    frame.loc[rng.random(n) < 0.1, "length"] = np.nan
    frame.loc[rng.random(n) < 0.1, "city"] = np.nan
    frame.loc[rng.random(n) < 0.1, "count"] = np.nan  # whole numbers read as floats, with gaps
    return frame


def round_trip(codec):
    """The codec through JSON text and arrays, as :func:`write_saved` stores it."""
    plain, arrays = split_arrays(codec.to_dict())
    return TableCodec.from_dict(join_arrays(json.loads(json.dumps(plain)), arrays))


@pytest.mark.parametrize("normalise", ["quantile", "standard"])
def test_a_codec_read_back_encodes_and_decodes_exactly_as_the_fitted_one(normalise):
    frame = mixed()
    codec = TableCodec.fit(frame, frame[:160], normalise=normalise)
    kinds = {c.name: c.kind for c in codec.columns}
    assert kinds == {"city": "categorical", "count": "integer", "length": "numeric", "weight": "numeric",
                     "flag": "boolean", "rating": "categorical", "const": "constant", "empty": "constant"}
    again = round_trip(codec)
    encoded = codec.encode(frame)
    np.testing.assert_array_equal(again.encode(frame), encoded)
    pd.testing.assert_frame_equal(again.decode(encoded), codec.decode(encoded))
    generated = np.random.default_rng(1).normal(size=(300, codec.width)).astype(np.float32)
    pd.testing.assert_frame_equal(again.decode(generated), codec.decode(generated))
    np.testing.assert_array_equal(again.harden(generated), codec.harden(generated))
    assert again.describe() == codec.describe() and again.spans() == codec.spans()
    plain, arrays = split_arrays(again.to_dict())
    assert plain == split_arrays(codec.to_dict())[0]  # the same JSON once more
    for name, array in split_arrays(codec.to_dict())[1].items():
        np.testing.assert_array_equal(arrays[name], array)


def test_numpy_scalars_become_json_values_of_the_same_decoding():
    frame = pd.DataFrame({"k": np.array([1.5] * 20), "code": np.arange(20) % 3, "b": [True, False] * 10,
                          "x": np.linspace(0, 1, 20)})
    codec = TableCodec.fit(frame, frame, categorical=("code",))
    values = codec.to_dict()
    categories = {c["name"]: c["categories"] for c in values["columns"]}
    assert categories == {"k": [1.5], "code": [0, 1, 2], "b": [False, True], "x": []}
    assert all(type(v) in (float, int, bool) for v in categories["k"] + categories["code"] + categories["b"])
    encoded = codec.encode(frame)
    pd.testing.assert_frame_equal(round_trip(codec).decode(encoded), codec.decode(encoded))


def test_a_category_json_cannot_keep_is_named():
    frame = pd.DataFrame({"when": pd.to_datetime(["2020-01-01", "2021-06-01"] * 10), "x": np.arange(20.0)})
    codec = TableCodec.fit(frame, frame, categorical=("when",))
    with pytest.raises(GankitError, match="column 'when' holds .*Timestamp.*cannot keep"):
        codec.to_dict()


# --- the files of a saved state ----------------------------------------------------------------

def state():
    return {"task": "t", "params": {"a": [1, 2]}, "codec": TableCodec.fit(mixed(), mixed()).to_dict(),
            "rows": np.arange(12, dtype=np.float32).reshape(3, 4), "images": np.zeros((2, 1, 4, 4), np.uint8)}


def test_a_state_is_written_as_json_and_arrays_and_read_back_without_pickle(tmp_path):
    written = state()
    write_saved(tmp_path, written)
    values = json.loads((tmp_path / STATE_FILE).read_text())
    assert values["state"]["rows"] == {"__array__": values["state"]["rows"]["__array__"]}
    with np.load(tmp_path / ARRAYS_FILE, allow_pickle=False) as arrays:
        assert {arrays[name].dtype.kind for name in arrays.files} == {"f", "u"}
    read = read_saved(tmp_path)
    assert read["images"].dtype == np.uint8 and read["rows"].dtype == np.float32
    np.testing.assert_array_equal(read["rows"], written["rows"])
    assert split_arrays(read["codec"])[0] == split_arrays(written["codec"])[0]
    assert read_saved(tmp_path / "nothing") is None


def test_the_same_state_writes_the_same_bytes(tmp_path):
    write_saved(tmp_path / "a", state())
    write_saved(tmp_path / "b", state())
    for name in (STATE_FILE, ARRAYS_FILE):  # every process of a torchrun job writes the same file
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_torn_or_missing_pair_is_refused(tmp_path):
    write_saved(tmp_path / "a", state())
    write_saved(tmp_path / "b", {**state(), "rows": np.ones((3, 4), np.float32)})
    (tmp_path / "a" / ARRAYS_FILE).write_bytes((tmp_path / "b" / ARRAYS_FILE).read_bytes())
    with pytest.raises(GankitError, match="is not the file"):
        read_saved(tmp_path / "a")
    (tmp_path / "b" / ARRAYS_FILE).unlink()
    with pytest.raises(GankitError, match="is missing"):
        read_saved(tmp_path / "b")


def test_object_arrays_are_not_kept():
    with pytest.raises(TypeError, match="numbers or booleans"):
        split_arrays({"x": np.array(["a", None], dtype=object)})
