"""The figures print the numbers of summary.json, and a folder they cannot write is one line."""

import json
import os

import pytest
from matplotlib.figure import Figure

from gankit.cli import main

FAST = ["--steps", "30", "--quiet", "--set", "log.eval_every=10", "--set", "log.snapshot_every=10"]


@pytest.fixture
def titles(monkeypatch):
    """Every text drawn on each figure saved, by file name."""
    seen: dict[str, str] = {}
    save = Figure.savefig

    def recording(fig, path, *args, **kwargs):
        name = getattr(path, "name", None) or "buffer"
        seen[name] = "\n".join(t.get_text() for ax in fig.axes for t in [ax.title, *ax.texts])
        return save(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording)
    return seen


@pytest.fixture(scope="module")
def curve_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures") / "run"
    assert main(["train", *FAST, "--set", "log.eval_samples=2048", "--no-figures", "--out", str(out)]) == 0
    return out


def test_curve_figures_show_the_summary_numbers(curve_run, titles):
    summary = json.loads((curve_run / "summary.json").read_text())
    assert main(["plot", str(curve_run)]) == 0
    assert f"a_w1 = {summary['a_w1']:.4f} (summary.json" in titles["a_hist.png"]
    assert f"mean D(real) = {summary['d_real_mean']:.4f}" in titles["final.png"]


def test_ring_mode_histogram_shows_the_summary_numbers(tmp_path, titles):
    out = tmp_path / "ring"
    assert main(["train", "--data", "ring", *FAST, "--wait-figures", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    title = titles["mode_hist.png"]
    assert f"hq_fraction = {summary['hq_fraction']:.3f}" in title
    assert f"reverse_kl = {summary['reverse_kl']:.4f}" in title


def test_population_figures_show_member_zero(tmp_path, titles):
    out = tmp_path / "pop"
    assert main(["train", "--preset", "seed", "--seeds", "3", *FAST, "--wait-figures",
                 "--set", "log.eval_samples=1024", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    members = summary.get("members", summary.get("member_values"))
    assert f"a_w1 = {members['a_w1'][0]:.4f}" in titles["a_hist.png"]


def test_plot_into_a_folder_that_cannot_be_written_is_one_line(curve_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(curve_run, run)
    shutil.rmtree(run / "figures", ignore_errors=True)
    (run / "figures").write_text("a file where the figures folder belongs")
    assert main(["plot", str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gankit: error: cannot write the figures in") and err.count("\n") == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_plot_on_a_read_only_run_folder_is_one_line(curve_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(curve_run, run)
    for folder in (run, run / "figures"):
        if folder.exists():
            folder.chmod(0o555)
    try:
        assert main(["plot", str(run)]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    finally:
        for folder in (run, run / "figures"):
            if folder.exists():
                folder.chmod(0o755)


def test_gif_frames_drawn_over_kept_axes_equal_frames_drawn_whole(curve_run):
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from gankit.evaluation import figures
    from gankit.store.rundir import RunFolder
    from gankit.tasks import make_task

    snapshots = RunFolder(curve_run).snapshots.read()
    assert len(snapshots) >= 3
    task = make_task("parabola")
    fast = figures.gif_frames(task, snapshots)
    for snapshot, frame in zip(snapshots, fast):
        fig = figures._figure(figsize=(6.4, 4.8), dpi=70)
        fig.subplots_adjust(**figures.SNAPSHOT_MARGINS)
        canvas = FigureCanvasAgg(fig)
        figures.draw_snapshot(fig.subplots(), task, snapshot)
        canvas.draw()
        whole = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
        assert np.abs(np.asarray(frame).astype(int) - whole).mean() < 0.01  # antialiasing at most
