"""The report: what the page holds, checked in the HTML, and that it renders in a real browser."""

import re
import shutil
import subprocess

import pytest

import gankit
from gankit.api.reporting import write_report
from gankit.api.run import Run
from gankit.cli import main
from helpers import HtmlPage

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny runs that differ in the loss and the member count; one folder name needs escaping."""
    root = tmp_path_factory.mktemp("report")
    plain = gankit.train(preset="seed", steps=20, out=root / "plain")
    odd = gankit.train(preset="seed", steps=20, loss="hinge", seeds=2, out=root / "odd <b>&")
    return root, plain, odd


def test_the_page_holds_settings_that_differ_metrics_floors_and_every_figure(runs, tmp_path):
    root, plain, odd = runs
    out = write_report([plain.path, odd.path], tmp_path / "r.html")
    text = out.read_text()
    page = HtmlPage(text)
    settings = {row[0]: row[1:] for row in page.tables[0]}
    assert settings["train.loss"] == ["minimax", "hinge"] and settings["seeds"] == ["1", "2"]
    assert "train.batch_size" not in settings  # the same in both runs
    # the single run's own metrics table: its values and the noise floors `gankit eval` computes
    table = {row[0]: row[1:] for row in page.tables[2]}
    fresh = Run.load(plain.path).evaluate(general=True)
    assert float(table["a_w1"][0]) == pytest.approx(plain.summary["a_w1"], rel=1e-3)
    assert float(table["mmd_rbf"][1]) == pytest.approx(fresh["mmd_rbf_floor"], rel=1e-3)
    assert table["a_w1"][2] == table["mmd_rbf"][2] == "lower is better"  # which way is better
    assert table["valid_fraction"][2] == "higher is better" and table["d_real_mean"][2] == ""
    # the population's table has its IQR and range columns
    assert page.tables[3][0] == ["metric", "value", "noise floor", "better", "IQR over members", "range"]
    figures = [p for run in (plain, odd) for p in run.folder.figures.iterdir()]
    assert len(page.images) == len(figures)  # curves.png once per run, all others once
    assert all(src.startswith(("data:image/png;base64,", "data:image/gif;base64,")) for src in page.images)
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing from the network
    assert "odd &lt;b&gt;&amp;" in text and "odd <b>" not in text


def test_bad_output_and_non_run_folders_are_one_line(runs, tmp_path, capsys):
    root, plain, _ = runs
    assert main(["report", str(plain.path), "--out", str(tmp_path / "r.txt")]) == 2
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "must end in .html" in err and "not a gankit run folder" in err
    assert not (tmp_path / "r.html").exists()


def _chromium(*args, tmp_path):
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def test_a_headless_browser_decodes_every_image_and_logs_no_error(runs, tmp_path):
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine: install it (apt-get install chromium) to open the "
                    "report in a real browser; .ci/run does")
    root, plain, odd = runs
    out = write_report([plain.path, odd.path], tmp_path / "report.html")
    dom = _chromium("--virtual-time-budget=10000", "--dump-dom", out.as_uri(), tmp_path=tmp_path).stdout
    body = re.search(r"<body[^>]*>", dom).group(0)
    count = len(HtmlPage(out.read_text()).images)
    assert f'data-images="{count}/{count}"' in body and 'data-images-ok="true"' in body, body
    assert "data-errors" not in body  # the page's script counts errors on the body
    assert '<table class="metrics">' in dom
    shot = tmp_path / "report.png"
    _chromium("--window-size=1280,2000", f"--screenshot={shot}", out.as_uri(), tmp_path=tmp_path)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000, shot


def test_the_report_draws_floors_on_their_metrics_panels_from_the_log(runs, tmp_path, monkeypatch):
    """The page's curves are drawn from metrics.jsonl, whatever curves.png the folder holds: a
    NAME_floor is never a panel of its own; here a_w1 is evaluated once (20 steps), so it is
    listed with its floor, and after a second evaluation it is a curve with the floor dashed."""
    import json

    from matplotlib.figure import Figure

    root, plain, _ = runs
    run = tmp_path / "run"
    shutil.copytree(plain.path, run)
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    rows = [{**r, "a_w1_floor": 0.05} if "a_w1" in r else r for r in rows]
    assert sum("a_w1" in r for r in rows) == 1
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    drawn, save = [], Figure.savefig
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: (drawn.append(fig), save(fig, *a, **k)))
    out = write_report(run, tmp_path / "r.html", evaluate=False)
    assert len(drawn) == 1
    axes = {ax.get_title(): ax for ax in drawn[0].axes}
    assert not [t for t in axes if t.endswith("_floor")]
    table = axes[f"evaluation at step {rows[-1]['step']}"].texts[0].get_text()
    assert [line.split() for line in table.splitlines() if line.startswith("a_w1")] == \
        [["a_w1", f"{rows[-1]['a_w1']:.4g}", "0.05"]]
    text = out.read_text()
    assert "dashed line is the metric&#x27;s noise floor" in text
    # curves once, all others once
    assert len(HtmlPage(text).images) == len(list((run / "figures").iterdir()))
    # a second evaluation makes a_w1 a curve, its floor a dashed line on its panel
    rows.insert(-1, {**rows[-1], "step": rows[-1]["step"] - 1, "a_w1": rows[-1]["a_w1"] * 2})
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_report(run, tmp_path / "r.html", evaluate=False)
    axes = {ax.get_title(): ax for ax in drawn[-1].axes}
    assert not [t for t in axes if t.endswith("_floor")]
    assert [line.get_linestyle() for line in axes["a_w1"].lines if "floor" in line.get_label()] == ["--"]
