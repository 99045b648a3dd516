"""The report: what the page holds, checked in the HTML, and that it renders in a real browser."""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

import gankit
from gankit.api.reporting import write_report
from gankit.api.run import Run
from gankit.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tiny runs that differ in the loss and the member count; one folder name needs escaping."""
    root = tmp_path_factory.mktemp("report")
    plain = gankit.train(preset="seed", steps=20, out=root / "plain")
    odd = gankit.train(preset="seed", steps=20, loss="hinge", seeds=2, out=root / "odd <b>&")
    return root, plain, odd


class _Page(HTMLParser):
    """The tables (as lists of rows of cell texts) and the image sources of a page."""

    def __init__(self, text):
        super().__init__()
        self.tables, self.images, self._cell = [], [], None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def test_the_page_holds_settings_that_differ_metrics_floors_and_every_figure(runs, tmp_path):
    root, plain, odd = runs
    out = write_report([plain.path, odd.path], tmp_path / "r.html")
    text = out.read_text()
    page = _Page(text)
    settings = {row[0]: row[1:] for row in page.tables[0]}
    assert settings["train.loss"] == ["minimax", "hinge"] and settings["seeds"] == ["1", "2"]
    assert "train.batch_size" not in settings  # the same in both runs
    # the single run's own metrics table: its values and the noise floors `gankit eval` computes
    table = {row[0]: row[1:] for row in page.tables[2]}
    fresh = Run.load(plain.path).evaluate(general=True)
    assert float(table["a_w1"][0]) == pytest.approx(plain.summary["a_w1"], rel=1e-3)
    assert float(table["mmd_rbf"][1]) == pytest.approx(fresh["mmd_rbf_floor"], rel=1e-3)
    # the population's table has its IQR and range columns
    assert page.tables[3][0] == ["metric", "value", "noise floor", "IQR over members", "range"]
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
    count = len(_Page(out.read_text()).images)
    assert f'data-images="{count}/{count}"' in body and 'data-images-ok="true"' in body, body
    assert "data-errors" not in body  # the page's script counts errors on the body
    assert '<table class="metrics">' in dom
    shot = tmp_path / "report.png"
    _chromium("--window-size=1280,2000", f"--screenshot={shot}", out.as_uri(), tmp_path=tmp_path)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000, shot
