"""``gankit runs`` on folders in every status, made from one real run and edited by hand."""

import json
import os
import shutil
import socket

import pytest

import gankit
from gankit.cli import main
from gankit.store.runs import format_table, list_runs


def _edit_json(path, **fields):
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))


def _dead_pid():
    """A process id that is not running: a child that has exited and been reaped."""
    import subprocess

    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    done = gankit.train(preset="seed", steps=20, out=root / "done", figures=False).path
    shutil.copytree(done, root / "better")
    _edit_json(root / "better" / "summary.json", a_w1=0.25)
    for name in ("killed", "stopped", "nan", "live"):
        shutil.copytree(done, root / "sub" / name)
        (root / "sub" / name / "summary.json").unlink()
    _edit_json(root / "sub" / "killed" / "run.json", status="running", pid=_dead_pid(),
               host=socket.gethostname())
    _edit_json(root / "sub" / "stopped" / "run.json", status="interrupted", reason="stopped by SIGINT")
    _edit_json(root / "sub" / "nan" / "run.json", status="diverged", reason="d_loss is nan")
    _edit_json(root / "sub" / "live" / "run.json", status="running", pid=os.getpid(),
               host=socket.gethostname())
    shutil.copytree(done, root / "old")  # written before run.json existed
    (root / "old" / "run.json").unlink()
    shutil.copytree(done, root / "torn")
    (root / "torn" / "summary.json").write_text('{"step": 2')
    (root / "bad").mkdir()
    (root / "bad" / "config.toml").write_text("this is [ not toml")
    return root


def test_each_folder_gets_its_status(root):
    status = {e.name: e.status for e in list_runs(root)}
    assert status == {"done": "finished", "better": "finished", "old": "finished",
                      "sub/killed": "interrupted", "sub/stopped": "interrupted", "sub/nan": "diverged",
                      "sub/live": "running", "torn": "broken", "bad": "broken"}
    done = next(e for e in list_runs(root) if e.name == "done")
    assert (done.task, done.preset, done.step, done.planned_steps) == ("parabola", "seed", 20, 20)
    assert done.headline == ["a_w1", "curve_rmse_median", "valid_fraction"]
    killed = next(e for e in list_runs(root) if e.name == "sub/killed")
    assert killed.step == 20 and "a_w1" in killed.metrics  # from the log, without a summary


def test_sorting_by_a_metric_puts_runs_without_it_last(root):
    names = [e.name for e in list_runs(root, sort="a_w1")]
    assert names[0] == "better" and set(names[-2:]) == {"torn", "bad"}
    assert [e.name for e in list_runs(root, sort="-a_w1")][-3] == "better"
    table = format_table(list_runs(root, sort="a_w1"), sort="a_w1")
    assert table.splitlines()[0].split()[:7] == ["name", "task", "preset", "steps", "status", "age", "a_w1"]
    assert table.splitlines()[1].startswith("better") and "0.25" in table.splitlines()[1]


def test_the_command_prints_json_and_refuses_an_unknown_metric(root, capsys):
    assert main(["runs", str(root), "--json", "--sort", "name"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["name"] for e in listed] == sorted(e["name"] for e in listed)
    torn = next(e for e in listed if e["name"] == "torn")
    assert torn["status"] == "broken" and torn["note"] and torn["age_s"] >= 0
    assert main(["runs", str(root), "--sort", "no_such"]) == 2
    assert "no_such" in capsys.readouterr().err
    assert main(["runs", str(root / "missing")]) == 2


def _learned(run, name, **params):
    """The run's config.toml edited to say it learned dataset ``name`` from ``params``."""
    config = run / "config.toml"
    head, data = config.read_text().split("[data]\n", 1)
    data = data.replace('name = "parabola"', f'name = "{name}"', 1)
    extra = "".join(f'{key} = "{value}"\n' for key, value in params.items())
    config.write_text(f"{head}[data]\n{extra}{data}")


def test_a_table_or_image_run_shows_the_file_or_folder_it_learned(root, tmp_path):
    listed = tmp_path / "listed"
    for name in ("zoo", "faces", "digits_npz", "plain"):
        shutil.copytree(root / "done", listed / name)
    (tmp_path / "data" / "faces").mkdir(parents=True)
    _learned(listed / "zoo", "table", path=str(tmp_path / "data" / "penguins.csv"))
    _learned(listed / "faces", "images", path=str(tmp_path / "data" / "faces"))
    _learned(listed / "digits_npz", "images", path="/gone/elsewhere/digits.npz")
    entries = {e.name: e for e in list_runs(listed)}
    shown = {"zoo": "table:penguins.csv", "faces": "images:faces/", "digits_npz": "images:digits.npz",
             "plain": "parabola"}
    assert {name: e.task_label for name, e in entries.items()} == shown
    assert (entries["zoo"].task, entries["zoo"].data) == ("table", "penguins.csv")  # --json keeps both
    table = format_table(list(entries.values())).splitlines()
    assert table[0].split()[1] == "task"
    assert {line.split()[0]: line.split()[1] for line in table[1:]} == shown
    assert [e.name for e in list_runs(listed, sort="task")] == ["digits_npz", "faces", "plain", "zoo"]
    assert [e.name for e in list_runs(listed, sort="-task")] == ["zoo", "plain", "faces", "digits_npz"]


def test_a_run_that_diverged_or_was_stopped_says_so(tmp_path, poison_steps):
    from gankit.core.errors import GankitError

    poison_steps("d_loss", first=15)
    with pytest.raises(GankitError, match="diverged at step 15"):
        gankit.train(preset="seed", steps=20, out=tmp_path / "nan", figures=False)
    (entry,) = list_runs(tmp_path)
    assert (entry.status, entry.step) == ("diverged", 10) and "d_loss is nan" in entry.note
