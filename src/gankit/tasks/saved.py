"""A task's saved state: what sampling, decoding and evaluating a run need of its data, kept in
the run folder so that the run works without its source file (moved, changed, deleted, or on
another machine).

A state is a tree of plain values (dicts, lists, str, int, float, bool, None) and numpy arrays of
numbers. It is written as two files, read without pickle: ``data.json`` (the plain values, each
array replaced by a reference to its entry in ``data.npz``) and ``data.npz`` (the arrays,
compressed, loaded with ``allow_pickle=False``). ``data.json`` is written last and records the
SHA-256 of ``data.npz``, so a pair torn by a crash is refused rather than mixed. An exported
model (:mod:`gankit.api.artifact`) holds the same two files' bytes (:func:`pack`, :func:`unpack`).

A task decides what goes into its state (:meth:`gankit.tasks.base.Task.saved_state`) and how it
is rebuilt from it (:meth:`~gankit.tasks.base.Task.from_saved_state`); this module only stores it.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from gankit.core.atomic import atomic_write_bytes
from gankit.core.errors import GankitError

STATE_FILE = "data.json"  # the plain values: human-readable (the table's columns, their types)
ARRAYS_FILE = "data.npz"  # the arrays, compressed
FORMAT = 1
_ARRAY = "__array__"  # the key of an array's place in data.json
_READ: dict[tuple[Any, ...], dict[str, Any]] = {}  # one read per file version and process


def split_arrays(tree: Any, arrays: dict[str, np.ndarray] | None = None) -> tuple[Any, dict[str, np.ndarray]]:
    """``tree`` with each numpy array replaced by ``{"__array__": name}``, and the arrays by name."""
    arrays = {} if arrays is None else arrays
    if isinstance(tree, np.ndarray):
        if tree.dtype.kind not in "biuf":
            raise TypeError(f"a saved state holds arrays of numbers or booleans, not {tree.dtype}")
        name = f"a{len(arrays)}"
        arrays[name] = tree
        return {_ARRAY: name}, arrays
    if isinstance(tree, dict):
        return {str(k): split_arrays(v, arrays)[0] for k, v in tree.items()}, arrays
    if isinstance(tree, (list, tuple)):
        return [split_arrays(v, arrays)[0] for v in tree], arrays
    return tree, arrays


def join_arrays(tree: Any, arrays: Any) -> Any:
    """The inverse of :func:`split_arrays`: each reference replaced by ``arrays[name]``."""
    if isinstance(tree, dict):
        if set(tree) == {_ARRAY}:
            return arrays[tree[_ARRAY]]
        return {k: join_arrays(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [join_arrays(v, arrays) for v in tree]
    return tree


def pack(state: dict[str, Any]) -> tuple[bytes, bytes]:
    """``state`` as the bytes of its two files: data.json (with the SHA-256 of the other) and
    data.npz. The same state gives the same bytes."""
    plain, arrays = split_arrays(state)
    data = _npz_bytes(arrays)
    text = json.dumps({"format": FORMAT, "arrays_sha256": hashlib.sha256(data).hexdigest(),
                       "state": plain}, indent=1)
    return (text + "\n").encode(), data


def unpack(text: bytes, data: bytes, where: str = STATE_FILE,
           arrays_where: str = ARRAYS_FILE) -> dict[str, Any]:
    """The state :func:`pack` made these bytes of, read without pickle; ``where`` and
    ``arrays_where`` name the two in messages."""
    try:
        values = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GankitError(f"cannot read the saved data '{where}': {exc}") from None
    if not isinstance(values, dict) or values.get("format") != FORMAT or "state" not in values:
        raise GankitError(f"'{where}' is not saved data this gankit reads (format {FORMAT})")
    if hashlib.sha256(data).hexdigest() != values.get("arrays_sha256"):
        raise GankitError(f"'{arrays_where}' is not the file '{where}' was written with (changed or "
                          "torn); train the run again, or resume it with its data")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        return join_arrays(values["state"], arrays)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise GankitError(f"'{arrays_where}' is corrupt ({type(exc).__name__}: {exc})") from None


def write_saved(folder: str | Path, state: dict[str, Any]) -> None:
    """Write ``state`` into the run folder ``folder`` (the arrays first, then data.json)."""
    folder = Path(folder)
    text, data = pack(state)
    atomic_write_bytes(folder / ARRAYS_FILE, data)
    atomic_write_bytes(folder / STATE_FILE, text)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """``np.savez_compressed``'s format, byte for byte the same for the same arrays (numpy's
    own stamps each entry with the time): under torchrun every rank writes the same file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()


def read_saved(folder: str | Path) -> dict[str, Any] | None:
    """The state saved in the run folder ``folder``; None when it holds none (a run of a task
    with nothing to save, or one written before gankit kept its data)."""
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        return None
    arrays_path = path.with_name(ARRAYS_FILE)
    try:
        key = (str(path.resolve()), path.stat().st_mtime_ns, arrays_path.stat().st_mtime_ns)
    except OSError:
        raise GankitError(f"'{arrays_path}' is missing: the run folder's saved data ({STATE_FILE}) "
                          "is incomplete") from None
    if key not in _READ:
        try:
            text, data = path.read_bytes(), arrays_path.read_bytes()
        except OSError as exc:
            raise GankitError(f"cannot read the run folder's saved data: {exc}") from None
        _READ.clear()  # one run's data at a time
        _READ[key] = unpack(text, data, str(path), str(arrays_path))
    return _READ[key]


def remove_saved(folder: str | Path) -> None:
    """Delete a run folder's saved data (a run replaced by another with ``--overwrite``)."""
    for name in (STATE_FILE, ARRAYS_FILE):
        (Path(folder) / name).unlink(missing_ok=True)


def check_saved(state: dict[str, Any], task: str, params: dict[str, Any]) -> None:
    """Refuse a saved state made for another task or with other data settings than ``params``
    (a hand-edited config.toml): the run's networks were trained on the state's data."""
    if state.get("task") != task:
        raise GankitError(f"the run folder's saved data ({STATE_FILE}) is of dataset "
                          f"'{state.get('task')}', not '{task}'")
    saved = state.get("params", {})
    for key, value in params.items():
        kept = saved.get(key)
        kept = tuple(kept) if isinstance(kept, list) else kept
        if key in saved and value != kept:
            raise GankitError(f"the run folder's saved data ({STATE_FILE}) was made with data.{key} = "
                              f"{kept!r}, the config says {value!r}; a run keeps the data settings it "
                              "was trained with")
