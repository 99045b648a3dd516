"""The run folder (gankit.store.rundir): its JSON-lines logs, creating and replacing a run without
touching anyone else's files, run.json, and the errors of a folder that is not a run."""

import json
import re

import pytest

from gankit.config.resolve import resolve_config
from gankit.core.errors import GankitError
from gankit.store.rundir import JsonLines, RunFolder, jsonable


def test_rows_are_appended_one_line_each_and_read_back(tmp_path):
    log = JsonLines(tmp_path / "log.jsonl")
    assert log.read() == []  # no file yet
    log.append({"step": 1, "d_loss": 0.5})
    log.append({"step": 2, "names": ["a", "b"], "nested": {"x": 1}})
    assert (tmp_path / "log.jsonl").read_text() == ('{"step": 1, "d_loss": 0.5}\n'
                                                     '{"step": 2, "names": ["a", "b"], "nested": {"x": 1}}\n')
    assert log.read() == [{"step": 1, "d_loss": 0.5}, {"step": 2, "names": ["a", "b"], "nested": {"x": 1}}]


def test_non_finite_floats_are_written_as_strings_at_any_depth(tmp_path):
    log = JsonLines(tmp_path / "log.jsonl")
    log.append({"step": 3, "d_loss": float("nan"), "members": {"g_loss": [1.0, float("inf"), -float("inf")]}})
    line = (tmp_path / "log.jsonl").read_text()
    assert line == '{"step": 3, "d_loss": "nan", "members": {"g_loss": [1.0, "inf", "-inf"]}}\n'
    assert "NaN" not in line and "Infinity" not in line  # strict JSON: other readers can parse it
    assert jsonable((1.5, float("nan"))) == [1.5, "nan"]
    assert jsonable("nan") == "nan" and jsonable(2) == 2


def test_a_torn_last_line_ends_the_log(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "d_lo')  # a crash mid-write
    assert JsonLines(path).read() == [{"step": 1}, {"step": 2}]


def test_truncate_after_keeps_the_rows_up_to_the_step_and_drops_a_torn_line(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"note": "no step"}\n{"step": 5, "v": "nan"}\n{"step": 10}\n{"step": 15}\n'
                    '{"step": 20, "v')
    log = JsonLines(path)
    log.truncate_after(10)
    assert path.read_text() == '{"note": "no step"}\n{"step": 5, "v": "nan"}\n{"step": 10}\n'
    log.append({"step": 15})
    assert [row.get("step") for row in log.read()] == [None, 5, 10, 15]
    log.truncate_after(0)
    assert log.read() == [{"note": "no step"}]


@pytest.fixture(scope="module")
def config():
    return resolve_config("seed")


def test_create_makes_the_folders_and_writes_the_config_that_load_config_reads_back(tmp_path, config):
    folder = RunFolder(tmp_path / "a" / "run")
    assert not folder.is_run()
    folder.create(config, overwrite=False)
    assert folder.is_run() and folder.checkpoints.is_dir() and folder.figures.is_dir()
    assert folder.config_path.read_text() == config.to_toml()
    assert folder.load_config() == config


def test_create_accepts_an_existing_empty_folder(tmp_path, config):
    (tmp_path / "empty").mkdir()
    RunFolder(tmp_path / "empty").create(config, overwrite=False)
    assert RunFolder(tmp_path / "empty").is_run()


@pytest.mark.parametrize("overwrite", [False, True])
def test_create_refuses_a_non_empty_folder_that_holds_no_run_even_with_overwrite(tmp_path, config, overwrite):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(GankitError, match=f"^output folder '{re.escape(str(tmp_path))}' is not empty and "
                       "holds no gankit run; choose another --out"):
        RunFolder(tmp_path).create(config, overwrite=overwrite)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


def test_create_refuses_a_file_and_an_unwritable_place(tmp_path, config):
    (tmp_path / "file").write_text("x")
    with pytest.raises(GankitError, match="output path '.*file' exists and is not a folder"):
        RunFolder(tmp_path / "file").create(config, overwrite=False)
    with pytest.raises(GankitError, match="cannot create run folder '.*file/run': Not a directory"):
        RunFolder(tmp_path / "file" / "run").create(config, overwrite=False)


def _filled_run(path, config):
    folder = RunFolder(path)
    folder.create(config, overwrite=False)
    folder.metrics.append({"step": 1})
    folder.snapshots.append({"step": 1})
    folder.write_summary({"step": 1})
    folder.update_info(status="finished")
    (folder.checkpoints / "step_00000001.pt").write_bytes(b"x")
    (folder.figures / "samples.png").write_bytes(b"x")
    (folder.figures / "training.gif").write_bytes(b"x")
    folder.tensorboard.mkdir()
    (folder.tensorboard / "events.out.tfevents.1.host").write_bytes(b"x")
    others = [path / "notes.md", folder.checkpoints / "step_old.pt", folder.checkpoints / "README",
              folder.figures / "my_plot.pdf", folder.tensorboard / "layout.json"]
    for other in others:
        other.write_text("not gankit's")
    return folder, others


def test_an_existing_run_is_refused_without_overwrite_and_left_whole(tmp_path, config):
    folder, _ = _filled_run(tmp_path / "run", config)
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / "run").rglob("*"))
    with pytest.raises(GankitError, match=r"is not empty; choose another --out, continue it with --resume "
                       r".*run, or pass --overwrite \(overwrite=True in Python\) to replace it$"):
        folder.create(config, overwrite=False)
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "run").rglob("*")) == before
    assert folder.metrics.read() == [{"step": 1}]


def test_overwrite_replaces_only_gankits_own_files(tmp_path, config):
    folder, others = _filled_run(tmp_path / "run", config)
    renamed = resolve_config("seed", overrides=[{"name": "second"}])
    folder.create(renamed, overwrite=True)
    assert folder.load_config().name == "second"
    left = sorted(str(p.relative_to(folder.path)) for p in folder.path.rglob("*") if p.is_file())
    assert left == sorted(["config.toml", *(str(p.relative_to(folder.path)) for p in others)])
    assert all(p.read_text() == "not gankit's" for p in others)
    assert folder.metrics.read() == [] and folder.read_summary() == {} and folder.read_info() == {}


def test_run_info_is_merged_field_by_field_and_a_torn_file_is_replaced(tmp_path):
    folder = RunFolder(tmp_path)
    assert folder.read_info() == {}
    folder.update_info(status="running", pid=12)
    folder.update_info(status="diverged", reason="d_loss", loss=float("nan"))
    assert folder.read_info() == {"status": "diverged", "pid": 12, "reason": "d_loss", "loss": "nan"}
    folder.info_path.write_text('{"status": "runn')
    with pytest.raises(json.JSONDecodeError):
        folder.read_info()
    folder.update_info(status="finished")
    assert folder.read_info() == {"status": "finished"}
    folder.info_path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="run.json does not hold a JSON object"):
        folder.read_info()


def test_the_summary_is_written_with_non_finite_values_as_strings(tmp_path):
    folder = RunFolder(tmp_path)
    assert folder.read_summary() == {}
    folder.write_summary({"step": 4, "a_w1": float("inf"), "members": {"a_w1": [0.5, float("nan")]}})
    assert folder.read_summary() == {"step": 4, "a_w1": "inf", "members": {"a_w1": [0.5, "nan"]}}


def test_load_config_of_a_missing_folder_or_one_without_config_says_which(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(GankitError) as raised:
        RunFolder(missing).load_config()
    assert str(raised.value) == f"run folder '{missing}' does not exist"
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(GankitError) as raised:
        RunFolder(tmp_path).load_config()
    assert str(raised.value) == f"'{tmp_path}' is not a gankit run folder (no config.toml)"
