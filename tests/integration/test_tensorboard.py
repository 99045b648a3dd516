import json
import sys

import pytest

import gankit
from gankit.cli import main
from gankit.session.tensorboard import scalar_tags
from gankit.store.rundir import RunFolder

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402


def _events(run_dir):
    accumulator = EventAccumulator(str(run_dir / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    return accumulator


def test_scalar_tags_give_each_surviving_member_a_series_and_the_median():
    row = {"step": 10, "elapsed_s": 1.0, "a_w1": 0.2,
           "members": {"a_w1": [0.1, 0.3, 9.0], "d_loss": [1.0, 2.0, float("nan")],
                       "diverged": [False, False, True]}}
    assert scalar_tags(row) == {"metric/a_w1/member_0": 0.1, "metric/a_w1/member_1": 0.3,
                                "metric/a_w1/median": 0.2, "loss/d/member_0": 1.0,
                                "loss/d/member_1": 2.0, "loss/d/median": 1.5}
    assert scalar_tags({"step": 3, "d_loss": 0.5, "success": True, "elapsed_s": 2}) == {
        "loss/d": 0.5, "metric/success": 1.0}


def test_tags_are_grouped_by_kind_and_d_outputs_are_written_once():
    row = {"step": 100, "d_loss": 1.3, "g_loss": 0.7, "d_real": 0.52, "d_fake": 0.48, "r1": 0.01,
           "clip": 0.25, "a_w1": 0.05, "curve_rmse_median": 0.04, "mmd_rbf": 0.002,
           "mmd_rbf_floor": 0.001, "d_real_mean": 0.51, "d_fake_mean": 0.49, "elapsed_s": 3.0}
    assert scalar_tags(row) == {
        "loss/d": 1.3, "loss/g": 0.7, "d/real": 0.52, "d/fake": 0.48, "d/r1": 0.01, "d/clip": 0.25,
        "metric/a_w1": 0.05, "metric/curve_rmse_median": 0.04, "metric/mmd_rbf": 0.002,
        "metric/mmd_rbf_floor": 0.001}
    # TensorBoard sorts a section's tags by name: each floor lands right after its metric.
    metrics = sorted(t for t in scalar_tags(row) if t.startswith("metric/"))
    assert metrics.index("metric/mmd_rbf_floor") == metrics.index("metric/mmd_rbf") + 1


def test_a_population_writes_member_series_images_and_hparams(tmp_path):
    run = gankit.train(preset="seed", steps=20, seeds=2, tensorboard=True, out=tmp_path / "r",
                       figures=False, set={"log.snapshot_every": 10, "train.r1": 0.1})
    events = _events(run.path)
    tags = set(events.Tags()["scalars"])
    for tag in ("loss/d", "loss/g", "d/real", "d/fake", "d/r1", "metric/a_w1", "metric/curve_rmse_median"):
        assert {f"{tag}/member_0", f"{tag}/member_1", f"{tag}/median"} <= tags, tag
    assert all(t.split("/")[0] in ("loss", "d", "metric") for t in tags)
    assert not {t for t in tags if "d_real" in t or "d_fake" in t}  # D's outputs once, as d/real
    rows = run.folder.metrics.read()
    logged = [(e.step, e.value) for e in events.Scalars("loss/d/member_1")]
    assert logged == [(r["step"], pytest.approx(r["members"]["d_loss"][1])) for r in rows]
    real = [(e.step, e.value) for e in events.Scalars("d/real/median")]
    assert real == [(r["step"], pytest.approx(r["d_real"])) for r in rows]
    assert [e.step for e in events.Scalars("metric/a_w1/median")] == [20]
    assert events.Scalars("metric/a_w1/median")[0].value == pytest.approx(rows[-1]["a_w1"])
    images = events.Images("samples")
    assert [e.step for e in images] == [1, 10, 20]
    assert images[0].width > 100 and images[0].height > 100
    assert "_hparams_/session_start_info" in events.PluginTagToContent("hparams")


def test_a_resumed_run_does_not_repeat_the_steps_it_lost(tmp_path):
    out = tmp_path / "r"
    gankit.train(preset="seed", steps=30, tensorboard=True, out=out, figures=False,
                 set={"log.checkpoint_every": 10, "log.keep_checkpoints": 5})
    folder = RunFolder(out)
    (folder.checkpoints / "step_00000030.pt").unlink()  # as if killed between steps 20 and 30
    folder.summary_path.unlink()
    first = {e.step: e.value for e in _events(out).Scalars("loss/d")}
    gankit.resume(out, figures=False)
    steps = [e.step for e in _events(out).Scalars("loss/d")]
    assert steps == [10, 20, 30]  # step 30 was written twice; TensorBoard shows the second only
    last_row = folder.metrics.read()[-1]
    assert _events(out).Scalars("loss/d")[-1].value == pytest.approx(last_row["d_loss"])
    assert first[20] == pytest.approx(_events(out).Scalars("loss/d")[1].value)
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


def test_without_the_package_the_flag_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # import tensorboard raises ImportError
    assert main(["train", "--preset", "seed", "--steps", "5", "--tensorboard", "--quiet",
                 "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install gankit[tensorboard]" in err
    assert not (tmp_path / "r").exists()


def test_a_rollback_rewinds_the_event_files(tmp_path, poison_steps):
    poisoned_once = poison_steps("d_loss", first=28, last=28)  # after the rollback step 28 is fine
    run = gankit.train(preset="seed", steps=30, tensorboard=True, on_divergence="rollback",
                       out=tmp_path / "r", figures=False,
                       set={"log.checkpoint_every": 20, "log.log_every": 5})
    steps = [e.step for e in _events(run.path).Scalars("loss/d")]
    assert poisoned_once and steps == [5, 10, 15, 20, 25, 30]  # back to 20 at step 28: 25 logged twice
    assert [r["step"] for r in run.folder.metrics.read()] == steps
