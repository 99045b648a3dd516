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


@pytest.fixture
def drawn(monkeypatch):
    """Every figure saved, by file name (and still written)."""
    figures: dict[str, Figure] = {}
    save = Figure.savefig

    def recording(fig, path, *args, **kwargs):
        figures[getattr(path, "name", "buffer")] = fig
        return save(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", recording)
    return figures


def _with_rows(curve_run, tmp_path, change):
    """A copy of the run whose metrics.jsonl rows went through ``change``."""
    import shutil

    run = tmp_path / "run"
    shutil.copytree(curve_run, run)
    shutil.rmtree(run / "figures", ignore_errors=True)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in change(rows)))
    return run


def test_plot_draws_a_floor_as_a_dashed_line_on_its_metric_not_as_a_panel(curve_run, tmp_path, drawn):
    def floors(rows):
        return [{**r, "a_w1_floor": 0.05} if "a_w1" in r else r for r in rows]

    run = _with_rows(curve_run, tmp_path, floors)
    assert main(["plot", str(run)]) == 0
    assert (run / "figures" / "curves.png").stat().st_size > 10_000
    axes = {ax.get_title(): ax for ax in drawn["curves.png"].axes}
    assert "a_w1_floor" not in axes
    dashed = [line for line in axes["a_w1"].lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and set(dashed[0].get_ydata()) == {0.05} and "floor" in dashed[0].get_label()


def test_plot_of_a_run_evaluated_once_lists_its_metrics_in_one_panel(curve_run, tmp_path, drawn):
    def last_evaluation_only(rows):
        keep = {"step", "d_loss", "g_loss", "d_real", "d_fake", "elapsed_s"}
        return [r if r is rows[-1] else {k: v for k, v in r.items() if k in keep} for r in rows]

    run = _with_rows(curve_run, tmp_path, last_evaluation_only)
    assert main(["plot", str(run)]) == 0
    fig = drawn["curves.png"]
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == \
        ["losses", "discriminator output", "evaluation at step 30"]
    summary = json.loads((run / "summary.json").read_text())
    assert f"{summary['a_w1']:.4g}" in fig.axes[2].texts[0].get_text()


def test_table_columns_use_a_log_axis_for_heavy_tails_and_label_categories_by_value(tmp_path, drawn):
    import numpy as np
    import pandas as pd

    from gankit.tasks import make_task

    rng = np.random.default_rng(0)
    states = [f"state_{i:02d}" for i in range(60)]
    pd.DataFrame({"normal": rng.normal(50, 10, 1500), "income": rng.lognormal(10, 1.2, 1500).round(2),
                  "balance": rng.standard_t(3, 1500) * 1000, "state": rng.choice(states, 1500)}
                 ).to_csv(tmp_path / "t.csv", index=False)
    task = make_task("table", {"path": str(tmp_path / "t.csv")})
    written = task.extra_figures(task.data.train_rows[:600], tmp_path)
    assert [p.name for p in written] == ["columns.png", "correlations.png", "projection.png"]
    assert all(p.stat().st_size > 5_000 for p in written)
    axes = {ax.get_title(): ax for ax in drawn["columns.png"].axes}
    assert axes["normal (numeric)"].get_xscale() == "linear"
    assert axes["income (numeric, log axis)"].get_xscale() == "log"
    assert axes["balance (numeric, symlog axis)"].get_xscale() == "symlog"
    labels = [t.get_text() for t in axes["state (categorical)"].get_xticklabels()]
    assert 10 <= len(labels) <= 20 and set(labels) <= set(states) and labels[0] == "state_00"
