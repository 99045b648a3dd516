import os
import pickle

import pytest
import torch

from gankit.core.errors import GankitError
from gankit.store.checkpoint import (
    FORMAT_VERSION,
    atomic_write_bytes,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)


def test_save_keeps_the_newest_k_and_loads_back(tmp_path):
    for step in (10, 20, 30, 40):
        save_checkpoint(tmp_path, step, {"w": torch.full((2,), float(step))}, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step_00000030.pt", "step_00000040.pt"]
    state = load_checkpoint(latest_checkpoint(tmp_path))
    assert state["format_version"] == FORMAT_VERSION and torch.equal(state["w"], torch.full((2,), 40.0))
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"old")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


class _CreatesAFile:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "step_00000001.pt"
    with open(path, "wb") as handle:
        pickle.dump({"format_version": 1, "x": _CreatesAFile(str(marker))}, handle, protocol=2)
    with pytest.raises(GankitError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()


def test_truncated_and_foreign_files_are_named(tmp_path):
    save_checkpoint(tmp_path, 1, {"w": torch.zeros(1000)}, keep=1)
    path = latest_checkpoint(tmp_path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(GankitError, match="corrupt or truncated"):
        load_checkpoint(path)
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(GankitError, match="not a gankit checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save({"format_version": 99}, tmp_path / "future.pt")
    with pytest.raises(GankitError, match="format version 99"):
        load_checkpoint(tmp_path / "future.pt")
    with pytest.raises(GankitError, match="no checkpoint"):
        latest_checkpoint(tmp_path / "nothing")


def test_a_version_1_checkpoint_is_upgraded_on_load(tmp_path):
    """Checkpoints written before samplers (format 1) kept bare data-stream states."""
    rng = torch.Generator().manual_seed(3)
    v1 = {"format_version": 1, "config": {}, "trainer": {"data_rng": [rng.get_state()], "step": 7}}
    torch.save(v1, tmp_path / "step_00000007.pt")
    state = load_checkpoint(latest_checkpoint(tmp_path))
    assert state["format_version"] == FORMAT_VERSION
    assert torch.equal(state["trainer"]["samplers"][0]["rng"], rng.get_state())
    assert "data_rng" not in state["trainer"] and state["trainer"]["step"] == 7
